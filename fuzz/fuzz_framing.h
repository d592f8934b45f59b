// Helpers shared by the cache-file and bundle fuzzers: the fuzzer's bytes
// as a whole file, and the same bytes wrapped in an intact frame (right
// sizes and checksum) so that the JSON header reaches the parser, where
// mutated raw bytes almost never get past the checksum.
#pragma once

#include "framed_file.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace packjit::fuzz {

// The input split at its first NUL byte: a header, then a payload.
inline std::string intactFrame(std::string_view input, std::string_view magic,
                               uint32_t version) {
  size_t nul = input.find('\0');
  std::string_view header = input.substr(0, nul);
  std::string_view payload = nul == std::string_view::npos
                                 ? std::string_view()
                                 : input.substr(nul + 1);
  return runtime::encodeFrame(magic, version, header, payload);
}

// `bytes` with one byte changed (at input[0..3] modulo the size, xor
// input[4] | 1): a damaged file, which must never decode.
inline std::string damaged(std::string bytes, std::string_view input) {
  if (bytes.empty() || input.size() < 5)
    return bytes;
  uint32_t at = 0;
  for (int i = 0; i < 4; ++i)
    at = at << 8 | static_cast<uint8_t>(input[i]);
  bytes[at % bytes.size()] ^= static_cast<char>(input[4] | 1);
  return bytes;
}

// `bytes` as printable ASCII: the writers put keys in a JSON header, and a
// key is a KernelSpec's canonical text, never arbitrary bytes.
inline std::string printable(std::string_view bytes) {
  std::string text(bytes);
  for (char &c : text)
    c = static_cast<char>(' ' + static_cast<uint8_t>(c) % 95);
  return text;
}

} // namespace packjit::fuzz
