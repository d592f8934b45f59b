// `packjit cache [list|stats|clear|verify]`: the on-disk kernel cache.
#include "commands.h"
#include "packjit/core/error.h"

#include "packjit/core/kernel_spec.h"
#include "packjit/runtime/disk_cache.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

namespace packjit::cli {
namespace {

using runtime::DiskCache;

std::string megabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f MB",
                static_cast<double>(bytes) / (1 << 20));
  return text;
}

std::string timestamp(const timespec &time) {
  char text[32];
  std::tm local{};
  localtime_r(&time.tv_sec, &local);
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

std::string basename(const std::string &path) {
  return path.substr(path.find_last_of('/') + 1);
}

enum class CacheAccess { Read, Remove };

// The cache at `directory` (default: the environment's), refused with the
// reason when it is not a directory or cannot be read (or, to remove
// entries, written): a listing or a removal must not report "0 entries"
// for a cache it could not see.
DiskCache openCache(const std::string &directory, CacheAccess access) {
  runtime::CacheSettings settings = runtime::cacheSettingsFromEnvironment();
  if (!directory.empty())
    settings.directory = directory;
  const std::string &dir = settings.directory;
  struct stat info {};
  if (::stat(dir.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode))
      throw Error("the cache directory " + dir + " is not a directory");
    if (::access(dir.c_str(), R_OK | X_OK) != 0)
      throw Error("cannot read the cache directory " + dir + ": " +
                  std::strerror(errno));
    if (access == CacheAccess::Remove && ::access(dir.c_str(), W_OK) != 0)
      throw Error("cannot remove entries from " + dir + ": " +
                  std::strerror(errno));
  }
  return DiskCache(settings);
}

void list(DiskCache &cache) {
  for (const DiskCache::FileInfo &file : cache.list()) {
    std::cout << basename(file.path) << "  " << megabytes(file.size) << "  "
              << timestamp(file.modified);
    if (file.entry)
      std::cout << "  cubin="
                << (file.entry->image.cubin.empty()
                        ? std::string("none")
                        : file.entry->image.cubinTarget)
                << "\n    " << file.entry->key << "\n";
    else
      std::cout << "  DAMAGED: " << file.problem << "\n";
  }
}

void stats(DiskCache &cache) {
  std::vector<DiskCache::FileInfo> files = cache.list();
  uint64_t total = 0, withCubin = 0, damaged = 0;
  for (const DiskCache::FileInfo &file : files) {
    total += file.size;
    withCubin += file.entry && !file.entry->image.cubin.empty();
    damaged += !file.entry;
  }
  std::cout << "directory:   " << cache.directory() << "\n"
            << "disk cache:  "
            << (cache.settings().diskEnabled ? "on" : "off (PACKJIT_CACHE)")
            << "\n"
            << "entries:     " << files.size() << " (" << withCubin
            << " with a driver cubin, " << damaged << " damaged)\n"
            << "size:        " << megabytes(total) << " of "
            << megabytes(cache.settings().maxBytes)
            << " (PACKJIT_CACHE_MAX_MB)\n";
}

// Returns the number of damaged entries (removed when `remove`).
int verify(DiskCache &cache, bool remove) {
  int damaged = 0;
  std::vector<DiskCache::FileInfo> files = cache.list();
  for (const DiskCache::FileInfo &file : files) {
    std::string problem = file.problem;
    if (file.entry) {
      try {
        KernelSpec spec = KernelSpec::parse(file.entry->key);
        if (basename(file.path) != spec.fileStem() + ".pjk")
          problem = "file name does not match its key";
      } catch (const std::exception &e) {
        problem = e.what();
      }
    }
    if (problem.empty())
      continue;
    ++damaged;
    std::cout << basename(file.path) << ": " << problem;
    if (remove && ::unlink(file.path.c_str()) == 0)
      std::cout << " (removed)";
    std::cout << "\n";
  }
  std::cout << files.size() - damaged << " of " << files.size()
            << " entries intact\n";
  return damaged;
}

} // namespace

void addCacheCommand(CLI::App &app) {
  auto directory = std::make_shared<std::string>();
  auto remove = std::make_shared<bool>(false);
  CLI::App *cmd =
      app.add_subcommand("cache", "Inspect the on-disk kernel cache");
  cmd->add_option("--dir", *directory,
                  "Cache directory (default: PACKJIT_CACHE_DIR, "
                  "$XDG_CACHE_HOME/packjit, ~/.cache/packjit)");
  cmd->require_subcommand(1);
  cmd->add_subcommand("list", "One line per entry, oldest first, with its key")
      ->callback([directory] {
        DiskCache cache = openCache(*directory, CacheAccess::Read);
        list(cache);
      });
  cmd->add_subcommand("stats", "Entry count, size and cap")
      ->callback([directory] {
        DiskCache cache = openCache(*directory, CacheAccess::Read);
        stats(cache);
      });
  cmd->add_subcommand("clear", "Delete every entry")->callback([directory] {
    DiskCache cache = openCache(*directory, CacheAccess::Remove);
    std::cout << "removed " << cache.clear() << " entries from "
              << cache.directory() << "\n";
  });
  CLI::App *verifyCmd = cmd->add_subcommand(
      "verify",
      "Check every entry's checksum and key; exit 1 if any is damaged");
  verifyCmd->add_flag("--remove", *remove, "Delete the damaged entries");
  verifyCmd->callback([directory, remove] {
    DiskCache cache = openCache(*directory, *remove ? CacheAccess::Remove
                                                    : CacheAccess::Read);
    if (verify(cache, *remove) > 0 && !*remove)
      throw CLI::RuntimeError(1);
  });
}

} // namespace packjit::cli
