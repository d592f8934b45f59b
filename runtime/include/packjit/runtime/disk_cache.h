// The on-disk kernel cache: one file per KernelSpec (<fileStem>.pjk, see
// cache_file.h) in one directory, shared by every process of the user.
//
// Files are written whole and renamed into place; a file that is truncated,
// fails its checksum, has another format version or another key is ignored
// (and replaced by the next store). A per-key lock file makes processes that
// miss the same key produce it once. A directory that cannot be created or
// written turns the cache memory-only, with one warning. Above the size cap
// the least recently used entries (by mtime, touched on every hit) go.
#pragma once

#include "packjit/core/kernel_spec.h"
#include "packjit/runtime/cache_file.h"
#include "packjit/runtime/settings.h"

#include <atomic>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace packjit::runtime {

class DiskCache {
public:
  explicit DiskCache(CacheSettings settings);

  // False when disabled (PACKJIT_CACHE=off) or degraded to memory-only.
  bool usable() const { return settings_.diskEnabled && !degraded_.load(); }
  const CacheSettings &settings() const { return settings_; }
  const std::string &directory() const { return settings_.directory; }
  std::string entryPath(const KernelSpec &spec) const;

  // The intact entry for `spec`, its mtime touched; nullopt otherwise.
  std::optional<KernelImage> load(const KernelSpec &spec);
  // Writes the entry atomically, then evicts down to the size cap. Failures
  // degrade the cache to memory-only (one warning) instead of throwing.
  void store(const KernelSpec &spec, const KernelImage &image);
  // The entry if present; otherwise, holding the key's lock file, looks again
  // and, if still missing, calls produce() and stores its result. `produced`
  // tells which happened. Without a usable directory just calls produce().
  KernelImage loadOrProduce(const KernelSpec &spec,
                            const std::function<KernelImage()> &produce,
                            bool *produced);

  struct FileInfo {
    std::string path;
    uint64_t size = 0;
    timespec modified{};
    std::optional<CacheEntry> entry; // nullopt when the file is not intact
    std::string problem;             // why not
  };
  // Every entry file (intact or not), oldest first.
  std::vector<FileInfo> list() const;
  // Deletes entries, lock files and leftover temporaries; returns the count
  // of entries removed.
  size_t clear();
  // Deletes least recently used entries until the total fits the cap,
  // sparing `keep` (the entry just written). Returns the count removed.
  size_t evictToFit(const std::string &keep = "");

private:
  bool ensureDirectory();
  void degrade(const std::string &what, int error);

  CacheSettings settings_;
  std::atomic<bool> degraded_{false};
  std::atomic<bool> directoryReady_{false};
};

} // namespace packjit::runtime
