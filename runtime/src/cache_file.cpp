#include "packjit/runtime/cache_file.h"

#include "framed_file.h"
#include "packjit/core/version.h"

#include <nlohmann/json.hpp>

namespace packjit::runtime {
namespace {
constexpr std::string_view kMagic = "PJKENTRY";
} // namespace

std::string cubinTargetFor(const std::string &arch, int driverVersion) {
  return arch + "/driver=" + std::to_string(driverVersion);
}

std::string encodeCacheEntry(const CacheEntry &entry) {
  nlohmann::json header = {
      {"key", entry.key},
      {"entry", entry.image.entryName},
      {"ptx_size", entry.image.ptx.size()},
      {"cubin_size", entry.image.cubin.size()},
      {"cubin_target", entry.image.cubinTarget},
      {"written_by", std::string(compilerVersion())},
  };
  return encodeFrame(kMagic, kCacheFormatVersion, header.dump(),
                     entry.image.ptx + entry.image.cubin);
}

std::optional<CacheEntry> decodeCacheEntry(std::string_view bytes,
                                           std::string *whyNot) {
  std::optional<Frame> frame =
      decodeFrame(bytes, kMagic, kCacheFormatVersion, whyNot);
  if (!frame)
    return std::nullopt;
  try {
    nlohmann::json header = nlohmann::json::parse(frame->header);
    const nlohmann::json &ptxField = header.at("ptx_size");
    const nlohmann::json &cubinField = header.at("cubin_size");
    // Only unsigned integers: get<size_t>() of 1.8e19 (a JSON float) or of
    // a negative number converts out of range (UB).
    if (!ptxField.is_number_unsigned() || !cubinField.is_number_unsigned()) {
      if (whyNot)
        *whyNot = "bad header: sizes are not unsigned integers";
      return std::nullopt;
    }
    size_t ptxSize = ptxField.get<size_t>();
    size_t cubinSize = cubinField.get<size_t>();
    // Compared without adding: a damaged size can wrap the sum.
    if (ptxSize > frame->payload.size() ||
        cubinSize != frame->payload.size() - ptxSize) {
      if (whyNot)
        *whyNot = "payload sizes do not add up";
      return std::nullopt;
    }
    CacheEntry entry;
    entry.key = header.at("key").get<std::string>();
    entry.image.entryName = header.at("entry").get<std::string>();
    entry.image.cubinTarget = header.at("cubin_target").get<std::string>();
    entry.image.ptx = frame->payload.substr(0, ptxSize);
    entry.image.cubin = frame->payload.substr(ptxSize);
    return entry;
  } catch (const nlohmann::json::exception &e) {
    if (whyNot)
      *whyNot = std::string("bad header: ") + e.what();
    return std::nullopt;
  }
}

} // namespace packjit::runtime
