// AOT bundles: many compiled specializations in one file, made by
// `packjit aot` and loaded by the runtime before it looks at the cache.
//
// The framing of framed_file.h with magic "PJBUNDLE"; the header is a JSON
// index {"written_by": ..., "entries": [{"key", "entry", "ptx": [offset, size],
// "cubin": [offset, size], "cubin_target"}]} and the payload holds the blobs.
// `packjit aot` fills "cubin" with ptxas's cubin for the entry's arch
// ("cubin_target": "sm_90/ptxas=13.0.88", see ptxasCubinTarget), or leaves it
// empty ("cubin_target": "") with --no-cubin; bundles written before cubins
// were added have it empty too. A runtime that cannot use the cubin
// JIT-compiles the PTX.
#pragma once

#include "packjit/runtime/cache_file.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace packjit::runtime {

inline constexpr uint32_t kBundleFormatVersion = 1;

std::string encodeBundle(const std::vector<CacheEntry> &entries);
// Throws packjit::Error when the file is not an intact bundle of this version.
void writeBundle(const std::string &path,
                 const std::vector<CacheEntry> &entries);

class Bundle {
public:
  // Throws packjit::Error naming the path and what is wrong with it.
  static Bundle load(const std::string &path);
  static Bundle decode(std::string_view bytes, const std::string &path);

  // nullptr when the bundle lacks the key (canonical KernelSpec text).
  const KernelImage *find(const std::string &key) const;
  const std::vector<CacheEntry> &entries() const { return entries_; }
  const std::string &path() const { return path_; }
  // The compiler version of the packjit that wrote it.
  const std::string &writtenBy() const { return writtenBy_; }

private:
  std::string path_;
  std::string writtenBy_;
  std::vector<CacheEntry> entries_;
  std::unordered_map<std::string, size_t> indexByKey_;
};

} // namespace packjit::runtime
