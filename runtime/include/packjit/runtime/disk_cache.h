// The on-disk kernel cache: one file per KernelSpec (<fileStem>.pjk, see
// cache_file.h) in one directory, shared by every process of the user.
//
// Files are written whole and renamed into place; a file that is truncated,
// fails its checksum, has another format version or another key is ignored
// (and replaced by the next store). Only the user's own files are loaded: an
// entry owned by another user, writable by its group or others, a symbolic
// link or not a regular file is refused (one warning) and its kernel
// compiled. A per-key lock file makes processes that miss the same key
// produce it once and serializes the stores of a key; a process waits for it
// at most settings.lockWait (a dead holder's lock is free at once). A
// directory that cannot be created or written turns the cache memory-only,
// with one warning. Above the size cap the least recently used entries (by
// mtime, touched on every hit) go, and with them temporaries that writers
// which died left behind.
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

  // The intact, trusted entry for `spec`, its mtime touched; nullopt
  // otherwise.
  std::optional<KernelImage> load(const KernelSpec &spec);
  // Writes the entry atomically under the key's lock, then evicts down to
  // the size cap. Failures degrade the cache to memory-only (one warning)
  // instead of throwing.
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
    std::optional<CacheEntry> entry; // nullopt when not intact or refused
    std::string problem;             // why not ("refused: ..." when refused)
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
  std::string lockPath(const KernelSpec &spec) const;
  // Writes the entry (under the key's lock when `holdingLock`), evicts.
  void write(const KernelSpec &spec, const KernelImage &image,
             bool holdingLock);
  void refuse(const std::string &path, const std::string &problem);
  void warnOfLockWait(const std::string &lockFile, const std::string &instead);

  CacheSettings settings_;
  std::atomic<bool> degraded_{false};
  std::atomic<bool> directoryReady_{false};
  std::atomic<bool> warnedOfRefusal_{false};
};

} // namespace packjit::runtime
