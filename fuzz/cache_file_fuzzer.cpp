// The disk cache's entry reader on arbitrary bytes: an entry or nullopt with
// a reason, never a crash or an exception, and never an entry from a damaged
// or truncated file.
#include "fuzz_framing.h"

#include "packjit/runtime/cache_file.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using packjit::runtime::CacheEntry;
using packjit::runtime::decodeCacheEntry;

// Decodes `bytes`; aborts unless a failure comes with a reason.
std::optional<CacheEntry> decode(std::string_view bytes) {
  std::string why;
  std::optional<CacheEntry> entry = decodeCacheEntry(bytes, &why);
  if (!entry && why.empty())
    std::abort(); // refused without saying why
  return entry;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  // 1. The bytes as a file.
  decode(input);
  // 2. The bytes as header and payload of an intact frame: the JSON reader.
  std::string framed = packjit::fuzz::intactFrame(
      input, "PJKENTRY", packjit::runtime::kCacheFormatVersion);
  decode(framed);
  // 3. A good entry made from the bytes, then damaged or cut short: never
  //    decoded (the checksum and the sizes guard every byte).
  CacheEntry entry;
  entry.key = packjit::fuzz::printable(input.substr(0, size / 2));
  entry.image.ptx = std::string(input.substr(size / 2));
  entry.image.entryName = "fuzzed";
  entry.image.cubin = std::string(input.substr(0, size % 7));
  entry.image.cubinTarget = "sm_90/driver=13000";
  const std::string good = packjit::runtime::encodeCacheEntry(entry);
  std::optional<CacheEntry> back = decode(good);
  if (!back || !(back->key == entry.key) || !(back->image == entry.image))
    std::abort(); // an intact entry does not read back
  if (decode(packjit::fuzz::damaged(good, input)) && size >= 5)
    std::abort(); // a damaged entry was loaded
  if (decode(std::string_view(good).substr(0, good.size() - 1 - size % 40)))
    std::abort(); // a truncated entry was loaded
  return 0;
}
