#include "packjit/runtime/disk_cache.h"

#include "framed_file.h"
#include "packjit/core/log.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace packjit::runtime {
namespace {

constexpr std::string_view kEntrySuffix = ".pjk";
constexpr std::string_view kLockSuffix = ".lock";
constexpr std::string_view kTempMarker = ".tmp.";

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
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

// Holds an exclusive flock on a lock file for its lifetime.
class FileLock {
public:
  explicit FileLock(const std::string &path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0)
      return;
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() {
    if (fd_ >= 0)
      ::close(fd_); // releases the lock
  }
  FileLock(const FileLock &) = delete;
  FileLock &operator=(const FileLock &) = delete;
  bool held() const { return fd_ >= 0; }

private:
  int fd_;
};

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

std::optional<KernelImage> DiskCache::load(const KernelSpec &spec) {
  if (!settings_.diskEnabled || degraded_.load())
    return std::nullopt;
  std::string path = entryPath(spec);
  std::optional<std::string> bytes = readWholeFile(path);
  if (!bytes) {
    PACKJIT_LOG(Debug, "disk cache miss: " + path);
    return std::nullopt;
  }
  std::string why;
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

void DiskCache::store(const KernelSpec &spec, const KernelImage &image) {
  if (!ensureDirectory())
    return;
  std::string path = entryPath(spec);
  if (int error = writeFileAtomically(
          path, encodeCacheEntry({spec.canonical(), image}))) {
    degrade("cannot write " + path, error);
    return;
  }
  PACKJIT_LOG(Debug, "stored " + path);
  evictToFit(path);
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
    lock.emplace(settings_.directory + "/" + spec.fileStem() +
                 std::string(kLockSuffix));
    if (!lock->held())
      degrade("cannot create a lock file", errno);
    // Whoever held the lock before us may have stored the entry.
    else if (std::optional<KernelImage> image = load(spec))
      return std::move(*image);
  }
  KernelImage image = produce();
  *produced = true;
  store(spec, image);
  return image;
}

std::vector<DiskCache::FileInfo> DiskCache::list() const {
  std::vector<FileInfo> files;
  DIR *dir = ::opendir(settings_.directory.c_str());
  if (!dir)
    return files;
  while (dirent *item = ::readdir(dir)) {
    std::string name = item->d_name;
    if (!endsWith(name, kEntrySuffix) ||
        name.find(kTempMarker) != std::string::npos)
      continue;
    FileInfo info;
    info.path = settings_.directory + "/" + name;
    struct stat st;
    if (::stat(info.path.c_str(), &st) != 0)
      continue;
    info.size = static_cast<uint64_t>(st.st_size);
    info.modified = st.st_mtim;
    if (std::optional<std::string> bytes = readWholeFile(info.path))
      info.entry = decodeCacheEntry(*bytes, &info.problem);
    else
      info.problem = std::strerror(errno);
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
        name.find(kTempMarker) != std::string::npos)
      doomed.push_back(name);
  }
  ::closedir(dir);
  for (const std::string &name : doomed)
    if (::unlink((settings_.directory + "/" + name).c_str()) == 0 &&
        endsWith(name, kEntrySuffix))
      ++removed;
  return removed;
}

size_t DiskCache::evictToFit(const std::string &keep) {
  // Only sizes and times are needed here: stat, not list(), which reads files.
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
  while (dirent *item = ::readdir(dir)) {
    std::string name = item->d_name;
    if (!endsWith(name, kEntrySuffix) ||
        name.find(kTempMarker) != std::string::npos)
      continue;
    std::string path = settings_.directory + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
      continue;
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
