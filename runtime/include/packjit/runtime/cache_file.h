// One disk-cache entry per file: the framing of framed_file.h with magic
// "PJKENTRY", a JSON header and the PTX and cubin as payload.
//
// Header: {"key": <KernelSpec canonical text>, "entry": <function name>,
//          "ptx_size": N, "cubin_size": M, "cubin_target":
//          "sm_90/driver=13000", "written_by": "packjit-0.1.0+mlir-22.r2"}
// Payload: the PTX bytes, then the cubin bytes.
#pragma once

#include "packjit/runtime/kernel_image.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace packjit::runtime {

// Bumped whenever the layout changes; files of other versions are ignored.
inline constexpr uint32_t kCacheFormatVersion = 1;

struct CacheEntry {
  std::string key; // canonical KernelSpec text
  KernelImage image;
};

std::string encodeCacheEntry(const CacheEntry &entry);
// nullopt with the reason when the bytes are not an intact entry of this
// format version.
std::optional<CacheEntry> decodeCacheEntry(std::string_view bytes,
                                           std::string *whyNot);

} // namespace packjit::runtime
