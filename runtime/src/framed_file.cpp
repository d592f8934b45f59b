#include "framed_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace packjit::runtime {
namespace {

void appendLittleEndian(std::string &out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t readLittleEndian(std::string_view bytes, size_t offset, int size) {
  uint64_t value = 0;
  for (int i = 0; i < size; ++i)
    value |=
        static_cast<uint64_t>(static_cast<unsigned char>(bytes[offset + i]))
        << (8 * i);
  return value;
}

XXH128_hash_t checksum(std::string_view header, std::string_view payload) {
  XXH3_state_t state;
  XXH3_128bits_reset(&state);
  XXH3_128bits_update(&state, header.data(), header.size());
  XXH3_128bits_update(&state, payload.data(), payload.size());
  return XXH3_128bits_digest(&state);
}

} // namespace

std::string encodeFrame(std::string_view magic, uint32_t version,
                        std::string_view header, std::string_view payload) {
  std::string out;
  out.reserve(kFramePreambleSize + header.size() + payload.size());
  out.append(magic.substr(0, 8));
  out.resize(8, ' ');
  appendLittleEndian(out, version, 4);
  appendLittleEndian(out, header.size(), 4);
  appendLittleEndian(out, payload.size(), 8);
  XXH128_hash_t sum = checksum(header, payload);
  appendLittleEndian(out, sum.high64, 8);
  appendLittleEndian(out, sum.low64, 8);
  out.append(header);
  out.append(payload);
  return out;
}

std::optional<Frame> decodeFrame(std::string_view bytes, std::string_view magic,
                                 uint32_t version, std::string *whyNot) {
  auto fail = [&](std::string reason) -> std::optional<Frame> {
    if (whyNot)
      *whyNot = std::move(reason);
    return std::nullopt;
  };
  if (bytes.size() < kFramePreambleSize)
    return fail("truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes.substr(0, 8) != magic.substr(0, 8))
    return fail("not a " + std::string(magic) + " file");
  uint64_t fileVersion = readLittleEndian(bytes, 8, 4);
  if (fileVersion != version)
    return fail("format version " + std::to_string(fileVersion) +
                ", expected " + std::to_string(version));
  uint64_t headerSize = readLittleEndian(bytes, 12, 4);
  uint64_t payloadSize = readLittleEndian(bytes, 16, 8);
  // The sizes as read, not their sum (which a damaged size can wrap).
  if (payloadSize > bytes.size() ||
      kFramePreambleSize + headerSize + payloadSize != bytes.size())
    return fail("size mismatch (truncated, padded or damaged): " +
                std::to_string(bytes.size()) + " bytes, the preamble says a " +
                std::to_string(headerSize) + "-byte header and a " +
                std::to_string(payloadSize) + "-byte payload after its " +
                std::to_string(kFramePreambleSize) + " bytes");
  std::string_view header = bytes.substr(kFramePreambleSize, headerSize);
  std::string_view payload = bytes.substr(kFramePreambleSize + headerSize);
  XXH128_hash_t sum = checksum(header, payload);
  if (sum.high64 != readLittleEndian(bytes, 24, 8) ||
      sum.low64 != readLittleEndian(bytes, 32, 8))
    return fail("checksum mismatch");
  return Frame{std::string(header), std::string(payload)};
}

std::optional<std::string> readToEnd(int fd) {
  std::string data;
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return std::nullopt;
    if (n == 0)
      return data;
    data.append(buffer, static_cast<size_t>(n));
  }
}

std::optional<std::string> readWholeFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  std::optional<std::string> data = readToEnd(fd);
  int error = errno;
  ::close(fd);
  errno = error;
  return data;
}

int writeFileAtomically(const std::string &path, std::string_view bytes) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  return writeFileAtomically(path, bytes,
                             path + ".tmp." + std::to_string(::getpid()) + "." +
                                 std::to_string(random() & 0xffffffff));
}

int writeFileAtomically(const std::string &path, std::string_view bytes,
                        const std::string &temp) {
  // Unlinked and created anew (O_EXCL), never opened where it stands: in a
  // directory others can write, it could be a link to someone's file.
  if (::unlink(temp.c_str()) != 0 && errno != ENOENT)
    return errno;
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno;
  auto fail = [&](int error) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(temp.c_str());
    return error;
  };
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail(n < 0 ? errno : ENOSPC);
    written += static_cast<size_t>(n);
  }
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0)
    return fail(errno);
  if (::rename(temp.c_str(), path.c_str()) != 0)
    return fail(errno);
  return 0;
}

} // namespace packjit::runtime
