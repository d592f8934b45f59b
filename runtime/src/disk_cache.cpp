#include "packjit/runtime/disk_cache.h"

#include "framed_file.h"
#include "packjit/core/log.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace packjit::runtime {
namespace {

constexpr std::string_view kEntrySuffix = ".pjk";
constexpr std::string_view kLockSuffix = ".lock";
// "<entry>.tmp" (a store under the key's lock) or "<entry>.tmp.<pid>.<n>"
// (one without it).
constexpr std::string_view kTempSuffix = ".tmp";
constexpr std::string_view kTempMarker = ".tmp.";
// A temporary this old was left by a writer that died: a live one writes
// its few megabytes at most in well under a second.
constexpr time_t kStaleTemporarySeconds = 600;

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

bool isTemporary(std::string_view name) {
  return endsWith(name, kTempSuffix) ||
         name.find(kTempMarker) != std::string_view::npos;
}

bool isEntry(std::string_view name) {
  return endsWith(name, kEntrySuffix) && !isTemporary(name);
}

bool olderThan(const timespec &a, const timespec &b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec < b.tv_sec : a.tv_nsec < b.tv_nsec;
}

// mkdir -p, each created level 0700.
int makeDirectories(const std::string &path) {
  struct stat info;
  if (::stat(path.c_str(), &info) == 0)
    return S_ISDIR(info.st_mode) ? 0 : ENOTDIR;
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0)
    if (int error = makeDirectories(path.substr(0, slash)))
      return error;
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    return errno;
  return 0;
}

// Holds an exclusive flock on a lock file for its lifetime, waiting for it
// at most `wait`. The kernel releases a flock when its holder dies, so a
// dead process never leaves a lock held; a stopped or hung one can, hence
// the bound.
class FileLock {
public:
  FileLock(const std::string &path, std::chrono::milliseconds wait)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                   0600)) {
    if (fd_ < 0) {
      error_ = errno;
      return;
    }
    auto deadline = std::chrono::steady_clock::now() + wait;
    auto pause = std::chrono::microseconds(100);
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR)
        continue;
      if (errno != EWOULDBLOCK) { // no flock here (ENOLCK, EOPNOTSUPP...)
        error_ = errno;
        failedToLock_ = true;
        return;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        timedOut_ = true;
        return;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(5000));
    }
    held_ = true;
  }
  ~FileLock() {
    if (fd_ >= 0)
      ::close(fd_); // releases the lock
  }
  FileLock(const FileLock &) = delete;
  FileLock &operator=(const FileLock &) = delete;
  bool held() const { return held_; }
  bool timedOut() const { return timedOut_; }
  int error() const { return error_; }
  // What failed, for a message: opening the file or locking it.
  std::string failure(const std::string &path) const {
    return (failedToLock_ ? "cannot lock " : "cannot open the lock file ") +
           path;
  }

private:
  int fd_;
  bool held_ = false;
  bool timedOut_ = false;
  bool failedToLock_ = false;
  int error_ = 0;
};

// The bytes of the entry file at `path` if this process may trust them:
// a regular file (opened without following a link or blocking on a FIFO)
// owned by this process's effective user and writable by no one else. A
// kernel cache holds code the process runs; a file someone else could
// have written is a way for their code into it. Otherwise nullopt, with
// the reason in *problem and *untrusted set when the file exists but is
// refused.
std::optional<std::string> readTrustedEntry(const std::string &path,
                                            std::string *problem,
                                            bool *untrusted) {
  *untrusted = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    *untrusted = error == ELOOP; // O_NOFOLLOW met a symbolic link
    *problem = *untrusted ? "a symbolic link" : std::strerror(error);
    return std::nullopt;
  }
  struct stat info;
  std::optional<std::string> bytes;
  if (::fstat(fd, &info) != 0) {
    *problem = std::strerror(errno);
  } else if (!S_ISREG(info.st_mode)) {
    *untrusted = true;
    *problem = "not a regular file";
  } else if (info.st_uid != ::geteuid()) {
    *untrusted = true;
    *problem = "owned by uid " + std::to_string(info.st_uid) +
               ", not by this process's user (uid " +
               std::to_string(::geteuid()) + ")";
  } else if (info.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", info.st_mode & 07777);
    *untrusted = true;
    *problem =
        std::string("writable by its group or others (mode ") + mode + ")";
  } else if (!(bytes = readToEnd(fd))) {
    *problem = std::strerror(errno);
  }
  ::close(fd);
  return bytes;
}

} // namespace

DiskCache::DiskCache(CacheSettings settings) : settings_(std::move(settings)) {}

std::string DiskCache::entryPath(const KernelSpec &spec) const {
  return settings_.directory + "/" + spec.fileStem() +
         std::string(kEntrySuffix);
}

void DiskCache::degrade(const std::string &what, int error) {
  if (!degraded_.exchange(true))
    PACKJIT_LOG(Warn, "kernel cache directory '" + settings_.directory +
                          "' is not usable (" + what + ": " +
                          std::strerror(error) +
                          "); caching kernels in memory only");
}

bool DiskCache::ensureDirectory() {
  if (!usable())
    return false;
  if (directoryReady_.load())
    return true;
  if (int error = makeDirectories(settings_.directory)) {
    degrade("cannot create it", error);
    return false;
  }
  directoryReady_ = true;
  return true;
}

std::string DiskCache::lockPath(const KernelSpec &spec) const {
  return settings_.directory + "/" + spec.fileStem() + std::string(kLockSuffix);
}

void DiskCache::refuse(const std::string &path, const std::string &problem) {
  std::string message =
      "refusing kernel cache file " + path + ": " + problem +
      "; compiling its kernel instead (only the user's own entries, "
      "writable by no one else, are loaded)";
  if (!warnedOfRefusal_.exchange(true))
    PACKJIT_LOG(Warn, message);
  else
    PACKJIT_LOG(Info, message);
}

void DiskCache::warnOfLockWait(const std::string &lockFile,
                               const std::string &instead) {
  PACKJIT_LOG(Warn, "waited " + std::to_string(settings_.lockWait.count()) +
                        " ms for the lock file " + lockFile +
                        " (held by a process that is stopped, hung or very "
                        "slow); " +
                        instead + " without it");
}

std::optional<KernelImage> DiskCache::load(const KernelSpec &spec) {
  if (!usable())
    return std::nullopt;
  std::string path = entryPath(spec);
  std::string why;
  bool untrusted = false;
  std::optional<std::string> bytes = readTrustedEntry(path, &why, &untrusted);
  if (!bytes) {
    if (untrusted)
      refuse(path, why);
    else
      PACKJIT_LOG(Debug, "disk cache miss: " + path + " (" + why + ")");
    return std::nullopt;
  }
  std::optional<CacheEntry> entry = decodeCacheEntry(*bytes, &why);
  if (entry && entry->key != spec.canonical())
    why = "it holds another key: " + entry->key;
  if (!entry || !why.empty()) {
    PACKJIT_LOG(Info, "ignoring cache file " + path + ": " + why);
    return std::nullopt;
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0); // recently used
  return std::move(entry->image);
}

void DiskCache::write(const KernelSpec &spec, const KernelImage &image,
                      bool holdingLock) {
  std::string path = entryPath(spec);
  std::string bytes = encodeCacheEntry({spec.canonical(), image});
  // Under the key's lock one temporary name serves every writer, so that
  // writers killed mid-write leave at most one file per key.
  int error = holdingLock ? writeFileAtomically(path, bytes,
                                                path + std::string(kTempSuffix))
                          : writeFileAtomically(path, bytes);
  if (error) {
    degrade("cannot write " + path, error);
    return;
  }
  PACKJIT_LOG(Debug, "stored " + path);
  evictToFit(path);
}

void DiskCache::store(const KernelSpec &spec, const KernelImage &image) {
  if (!ensureDirectory())
    return;
  FileLock lock(lockPath(spec), settings_.lockWait);
  if (lock.error()) {
    degrade(lock.failure(lockPath(spec)), lock.error());
    return;
  }
  if (lock.timedOut())
    warnOfLockWait(lockPath(spec), "storing");
  write(spec, image, lock.held());
}

KernelImage
DiskCache::loadOrProduce(const KernelSpec &spec,
                         const std::function<KernelImage()> &produce,
                         bool *produced) {
  *produced = false;
  if (std::optional<KernelImage> image = load(spec))
    return std::move(*image);
  std::optional<FileLock> lock;
  if (ensureDirectory()) {
    lock.emplace(lockPath(spec), settings_.lockWait);
    if (lock->error())
      degrade(lock->failure(lockPath(spec)), lock->error());
    else if (lock->timedOut())
      warnOfLockWait(lockPath(spec), "compiling");
    // Whoever held the lock before us may have stored the entry.
    else if (std::optional<KernelImage> image = load(spec))
      return std::move(*image);
  }
  KernelImage image = produce();
  *produced = true;
  if (usable())
    write(spec, image, lock && lock->held());
  return image;
}

std::vector<DiskCache::FileInfo> DiskCache::list() const {
  std::vector<FileInfo> files;
  DIR *dir = ::opendir(settings_.directory.c_str());
  if (!dir)
    return files;
  while (dirent *item = ::readdir(dir)) {
    std::string name = item->d_name;
    if (!isEntry(name))
      continue;
    FileInfo info;
    info.path = settings_.directory + "/" + name;
    struct stat st;
    if (::lstat(info.path.c_str(), &st) != 0)
      continue;
    info.size = static_cast<uint64_t>(st.st_size);
    info.modified = st.st_mtim;
    bool untrusted = false;
    if (std::optional<std::string> bytes =
            readTrustedEntry(info.path, &info.problem, &untrusted))
      info.entry = decodeCacheEntry(*bytes, &info.problem);
    else if (untrusted)
      info.problem = "refused: " + info.problem;
    files.push_back(std::move(info));
  }
  ::closedir(dir);
  std::sort(files.begin(), files.end(),
            [](const FileInfo &a, const FileInfo &b) {
              return olderThan(a.modified, b.modified);
            });
  return files;
}

size_t DiskCache::clear() {
  size_t removed = 0;
  DIR *dir = ::opendir(settings_.directory.c_str());
  if (!dir)
    return 0;
  std::vector<std::string> doomed;
  while (dirent *item = ::readdir(dir)) {
    std::string name = item->d_name;
    if (endsWith(name, kEntrySuffix) || endsWith(name, kLockSuffix) ||
        isTemporary(name))
      doomed.push_back(name);
  }
  ::closedir(dir);
  for (const std::string &name : doomed)
    if (::unlink((settings_.directory + "/" + name).c_str()) == 0 &&
        isEntry(name))
      ++removed;
  return removed;
}

size_t DiskCache::evictToFit(const std::string &keep) {
  // Only sizes and times are needed here: stat, not list(), which reads
  // files. Temporaries that writers which died left behind go too.
  struct Candidate {
    std::string path;
    uint64_t size;
    timespec modified;
  };
  std::vector<Candidate> candidates;
  uint64_t total = 0;
  DIR *dir = ::opendir(settings_.directory.c_str());
  if (!dir)
    return 0;
  time_t staleBefore = ::time(nullptr) - kStaleTemporarySeconds;
  while (dirent *item = ::readdir(dir)) {
    std::string name = item->d_name;
    bool temporary = isTemporary(name);
    if (!temporary && !isEntry(name))
      continue;
    std::string path = settings_.directory + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0)
      continue;
    if (temporary) {
      if (st.st_mtim.tv_sec < staleBefore && ::unlink(path.c_str()) == 0)
        PACKJIT_LOG(Info, "removed " + path + ", left by a writer that died");
      continue;
    }
    total += static_cast<uint64_t>(st.st_size);
    candidates.push_back({path, static_cast<uint64_t>(st.st_size), st.st_mtim});
  }
  ::closedir(dir);
  if (total <= settings_.maxBytes)
    return 0;
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate &a, const Candidate &b) {
              return olderThan(a.modified, b.modified);
            });
  size_t removed = 0;
  for (const Candidate &candidate : candidates) {
    if (total <= settings_.maxBytes)
      break;
    if (candidate.path == keep)
      continue;
    if (::unlink(candidate.path.c_str()) == 0) {
      total -= candidate.size;
      ++removed;
      PACKJIT_LOG(Info, "evicted " + candidate.path + " (cache above " +
                            std::to_string(settings_.maxBytes >> 20) + " MB)");
    }
  }
  return removed;
}

} // namespace packjit::runtime
