// The framing shared by cache entries and AOT bundles: a fixed little-endian
// preamble, a JSON header and a binary payload, checksummed together.
//
//   offset  size  field
//   0       8     magic ("PJKENTRY" or "PJBUNDLE")
//   8       4     format version
//   12      4     header size H
//   16      8     payload size P
//   24      16    XXH3-128 of header and payload (high, low; little-endian)
//   40      H     header (JSON text)
//   40+H    P     payload
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace packjit::runtime {

inline constexpr size_t kFramePreambleSize = 40;

struct Frame {
  std::string header;
  std::string payload;
};

std::string encodeFrame(std::string_view magic, uint32_t version,
                        std::string_view header, std::string_view payload);
// nullopt, with the reason in *whyNot, when the bytes are not a whole, intact
// frame of this magic and version.
std::optional<Frame> decodeFrame(std::string_view bytes, std::string_view magic,
                                 uint32_t version, std::string *whyNot);

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> readWholeFile(const std::string &path);
// Writes to a temporary file in the same directory and renames it over
// `path`, so readers see the old file or the new one, never a partial one.
// Returns 0 or the errno of the failing step.
int writeFileAtomically(const std::string &path, std::string_view bytes);

} // namespace packjit::runtime
