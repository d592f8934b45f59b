// The AOT bundle reader on arbitrary bytes: a bundle or a packjit::Error
// naming the file, never a crash or another exception, and never a bundle
// from a damaged or truncated file.
#include "fuzz_framing.h"

#include "packjit/core/error.h"
#include "packjit/runtime/bundle.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

using packjit::runtime::Bundle;
using packjit::runtime::CacheEntry;

const std::string kPath = "fuzzed.pjbundle";

std::optional<Bundle> decode(std::string_view bytes) {
  try {
    Bundle bundle = Bundle::decode(bytes, kPath);
    for (const CacheEntry &entry : bundle.entries())
      if (bundle.find(entry.key) == nullptr)
        std::abort(); // an entry that find() cannot see
    return bundle;
  } catch (const packjit::Error &e) {
    if (std::string_view(e.what()).find(kPath) == std::string_view::npos)
      std::abort(); // an error that does not name the file
    return std::nullopt;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  // 1. The bytes as a file.
  decode(input);
  // 2. The bytes as index and payload of an intact frame: the JSON index
  //    and the blob ranges.
  decode(packjit::fuzz::intactFrame(input, "PJBUNDLE",
                                    packjit::runtime::kBundleFormatVersion));
  // 3. A good bundle made from the bytes, damaged or cut short: refused.
  std::vector<CacheEntry> entries(1 + size % 3);
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].key = "key" + std::to_string(i) +
                     packjit::fuzz::printable(input.substr(std::min(i, size)));
    entries[i].image.entryName = "fuzzed";
    entries[i].image.ptx = std::string(input.substr(0, size / (i + 1)));
    entries[i].image.cubinTarget = "sm_90/driver=13000";
  }
  const std::string good = packjit::runtime::encodeBundle(entries);
  std::optional<Bundle> back = decode(good);
  if (!back || back->entries().size() != entries.size())
    std::abort(); // an intact bundle does not read back
  for (const CacheEntry &entry : entries)
    if (!back->find(entry.key) || !(*back->find(entry.key) == entry.image))
      std::abort();
  if (size >= 5 && decode(packjit::fuzz::damaged(good, input)))
    std::abort(); // a damaged bundle was loaded
  if (decode(std::string_view(good).substr(0, good.size() - 1 - size % 40)))
    std::abort(); // a truncated bundle was loaded
  return 0;
}
