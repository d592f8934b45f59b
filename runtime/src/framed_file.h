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

// The whole file, or nullopt (errno set) when it cannot be read.
std::optional<std::string> readWholeFile(const std::string &path);
// Everything left to read from `fd`, or nullopt (errno set).
std::optional<std::string> readToEnd(int fd);
// Writes to a temporary file in the same directory and renames it over
// `path`, so readers see the old file or the new one, never a partial one.
// The temporary's name is unique (pid and a random number): a writer that
// dies leaves it behind. Returns 0 or the errno of the failing step.
int writeFileAtomically(const std::string &path, std::string_view bytes);
// The same through the temporary `temp`, replaced if present: for writers
// that exclude each other (a lock), so that one that dies leaves at most
// this one file, which the next writer reuses.
int writeFileAtomically(const std::string &path, std::string_view bytes,
                        const std::string &temp);

} // namespace packjit::runtime
