// Writes and reads that fail: a full file system (a tiny tmpfs in a private
// mount namespace where one can be made; a file size limit, RLIMIT_FSIZE,
// everywhere) and permission errors (as an unprivileged user: root drops to
// nobody in a child, since permissions do not bind root). The kernel is
// always the right one, compiled when the cache cannot give it, and the
// cache never leaves a temporary file or damages an entry it had.
#include "child_process.h"
#include "packjit/runtime/disk_cache.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;
using namespace std::chrono_literals;

namespace {

constexpr uid_t kNobody = 65534;
constexpr int kSkipped = 77;

// Checks inside a child process: each failure is printed to the child's
// stderr (which the parent shows) and counted; the child exits with the
// count.
struct ChildChecks {
  int failures = 0;
  void expect(bool ok, const char *what, int line) {
    if (!ok) {
      std::fprintf(stderr, "child check failed at line %d: %s\n", line, what);
      ++failures;
    }
  }
};
#define EXPECT(condition) checks.expect((condition), #condition, __LINE__)

KernelSpec keySpec(int key) { return testSpec("test_kernel", 2000 + key); }

// An image with a cubin of `cubinBytes`, the right one for `key`.
KernelImage rightImage(int key, size_t cubinBytes = 0) {
  KernelImage image = fakeImage(keySpec(key));
  image.cubin.assign(cubinBytes, static_cast<char>('A' + key));
  if (cubinBytes)
    image.cubinTarget = "sm_90/driver=13000";
  return image;
}

// The right image through loadOrProduce, whatever the cache can do.
bool givesRightImage(DiskCache &cache, int key, size_t cubinBytes = 0) {
  bool produced = false;
  KernelImage image = cache.loadOrProduce(
      keySpec(key), [&] { return rightImage(key, cubinBytes); }, &produced);
  return image == rightImage(key, cubinBytes);
}

int temporaryFiles(const std::string &dir) {
  int count = 0;
  std::error_code error;
  for (const auto &item : std::filesystem::directory_iterator(dir, error))
    count += item.path().filename().string().find(".tmp") != std::string::npos;
  return count;
}

// Runs `body` in a child whose stderr goes to `log`; checks it exited 0
// (every EXPECT held) within the deadline. Returns false when it reported
// kSkipped.
bool runScenario(const std::string &log,
                 const std::function<int(ChildChecks &)> &body) {
  ChildEnd end = runInChild(
      [&] {
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        dup2(fd, 2);
        close(fd);
        ChildChecks checks;
        int code = body(checks);
        return code ? code : std::min(checks.failures, 60);
      },
      20s);
  std::string output = fileExists(log) ? readFile(log) : "";
  INFO("the child " << end.describe() << "; its stderr:\n" << output);
  CHECK(end.exited);
  if (end.code == kSkipped)
    return false;
  CHECK(end.code == 0);
  return true;
}

// As root: the tree becomes nobody's, for a child that drops to nobody.
void handToUnprivilegedChild(const std::string &dir) {
  if (geteuid() != 0)
    return;
  REQUIRE(chown(dir.c_str(), kNobody, kNobody) == 0);
  for (const auto &item : std::filesystem::recursive_directory_iterator(dir))
    REQUIRE(lchown(item.path().c_str(), kNobody, kNobody) == 0);
}

// In the child: root becomes nobody, so that permissions apply; any other
// user is already bound by them.
bool dropRoot() {
  if (geteuid() != 0)
    return true;
  return setgroups(0, nullptr) == 0 && setgid(kNobody) == 0 &&
         setuid(kNobody) == 0 && geteuid() == kNobody;
}

// Makes everything under `dir` removable again by its owner.
void restorePermissions(const std::string &dir) {
  std::error_code ignored;
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add, ignored);
  for (const auto &item :
       std::filesystem::recursive_directory_iterator(dir, ignored))
    if (!item.is_symlink())
      std::filesystem::permissions(item.path(),
                                   std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ignored);
}

// The part both full-disk scenarios share: an entry stored, then `fill`
// leaves no room for a larger one. The old entry stays intact, no
// temporary is left, the cache turns memory-only with one warning, kernels
// stay right.
void fillAndCheck(ChildChecks &checks, const CacheSettings &settings,
                  size_t bigCubin, const std::function<void()> &fill) {
  DiskCache cache(settings);
  EXPECT(givesRightImage(cache, 0));
  EXPECT(cache.load(keySpec(0)).has_value());
  fill();
  cache.store(keySpec(0), rightImage(0, bigCubin)); // does not fit
  EXPECT(!cache.usable());
  EXPECT(temporaryFiles(settings.directory) == 0);
  EXPECT(givesRightImage(cache, 1, bigCubin)); // compiled, not stored
  EXPECT(DiskCache(settings).load(keySpec(0)) == rightImage(0));
  EXPECT(!DiskCache(settings).load(keySpec(1)).has_value());
}

} // namespace

TEST_CASE("a full file system leaves the old entry, no temporary and the "
          "right kernel",
          "[runtime][disk][fault]") {
  TempDir dir;
  std::string log = dir.path() + "/child-stderr.txt";
  CacheSettings settings = settingsFor(dir.path() + "/cache");

  SECTION("a file size limit (RLIMIT_FSIZE): writes past it fail (EFBIG)") {
    REQUIRE(runScenario(log, [&](ChildChecks &checks) {
      signal(SIGXFSZ, SIG_IGN); // else the signal kills the writer
      fillAndCheck(checks, settings, 64 << 10, [&] {
        rlimit limit{16 << 10, 16 << 10};
        EXPECT(setrlimit(RLIMIT_FSIZE, &limit) == 0);
      });
      return 0;
    }));
    CHECK_THAT(readFile(log), Catch::Contains("File too large") &&
                                  Catch::Contains("memory only"));
  }

  SECTION("a 64 KiB tmpfs filled up (ENOSPC)") {
    bool ran = runScenario(log, [&](ChildChecks &checks) {
      // A private mount namespace: root's own; anyone else's through a
      // user namespace where the system allows one.
      uid_t uid = geteuid();
      gid_t gid = getegid();
      if (unshare(uid == 0 ? CLONE_NEWNS : CLONE_NEWUSER | CLONE_NEWNS) != 0)
        return kSkipped;
      if (uid != 0) {
        writeFile("/proc/self/setgroups", "deny");
        writeFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
        writeFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
      }
      std::filesystem::create_directories(settings.directory);
      if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          mount("tmpfs", settings.directory.c_str(), "tmpfs", 0,
                "size=64k,mode=0700") != 0)
        return kSkipped;
      fillAndCheck(checks, settings, 16 << 10, [&] {
        int fd = open((settings.directory + "/filler").c_str(),
                      O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        std::string block(4096, 'f');
        while (write(fd, block.data(), block.size()) > 0) {
        }
        EXPECT(errno == ENOSPC);
        close(fd);
      });
      return 0;
    });
    if (!ran)
      WARN("no private mount namespace here: the tmpfs case did not run "
           "(the RLIMIT_FSIZE case covers the same failing write)");
    else
      CHECK_THAT(readFile(log), Catch::Contains("No space left on device") &&
                                    Catch::Contains("memory only"));
  }
}

TEST_CASE("permission errors give the right kernel, compiled when the cache "
          "cannot help",
          "[runtime][disk][fault]") {
  TempDir dir;
  std::string log = dir.path() + "/child-stderr.txt";
  std::string cacheDir = dir.path() + "/cache";
  CacheSettings settings = settingsFor(cacheDir);
  // Entries made by the user the child runs as.
  handToUnprivilegedChild(dir.path());
  auto scenario = [&](const std::function<void(ChildChecks &)> &body) {
    REQUIRE(runScenario(log, [&](ChildChecks &checks) {
      if (!dropRoot())
        return 3;
      {
        DiskCache setup(settings);
        setup.store(keySpec(0), rightImage(0));
      }
      body(checks);
      return 0;
    }));
    restorePermissions(dir.path());
  };

  SECTION("a read-only cache directory: hits load, misses compile") {
    scenario([&](ChildChecks &checks) {
      EXPECT(chmod(cacheDir.c_str(), 0500) == 0);
      DiskCache cache(settings);
      EXPECT(cache.load(keySpec(0)) == rightImage(0));
      EXPECT(givesRightImage(cache, 1));
      EXPECT(!cache.usable());
      cache.store(keySpec(2), rightImage(2));
      EXPECT(temporaryFiles(cacheDir) == 0);
    });
    CHECK(countOccurrences(readFile(log), "memory only") == 1);
    CHECK_THAT(readFile(log), Catch::Contains("Permission denied"));
  }

  SECTION("an unreadable entry is compiled again and replaced") {
    scenario([&](ChildChecks &checks) {
      DiskCache cache(settings);
      EXPECT(chmod(cache.entryPath(keySpec(0)).c_str(), 0200) == 0);
      EXPECT(!cache.load(keySpec(0)).has_value());
      EXPECT(givesRightImage(cache, 0));
      EXPECT(cache.usable());
      EXPECT(DiskCache(settings).load(keySpec(0)) == rightImage(0));
    });
  }

  SECTION("a directory that cannot be searched") {
    scenario([&](ChildChecks &checks) {
      EXPECT(chmod(cacheDir.c_str(), 0) == 0);
      DiskCache cache(settings);
      EXPECT(!cache.load(keySpec(0)).has_value());
      EXPECT(givesRightImage(cache, 0));
      EXPECT(givesRightImage(cache, 1));
      EXPECT(!cache.usable());
    });
    CHECK(countOccurrences(readFile(log), "memory only") == 1);
  }

  SECTION("a lock file that cannot be opened") {
    scenario([&](ChildChecks &checks) {
      std::string lock = cacheDir + "/" + keySpec(1).fileStem() + ".lock";
      writeFile(lock, "");
      EXPECT(chmod(lock.c_str(), 0) == 0);
      DiskCache cache(settings);
      EXPECT(givesRightImage(cache, 1));
      EXPECT(!cache.usable());
      EXPECT(temporaryFiles(cacheDir) == 0);
    });
    CHECK_THAT(readFile(log), Catch::Contains("cannot open the lock file") &&
                                  Catch::Contains("Permission denied"));
  }

  SECTION("a parent directory where the cache cannot be created") {
    scenario([&](ChildChecks &checks) {
      std::string parent = dir.path() + "/locked";
      EXPECT(mkdir(parent.c_str(), 0500) == 0);
      DiskCache cache(settingsFor(parent + "/cache"));
      EXPECT(givesRightImage(cache, 0));
      EXPECT(!cache.usable());
    });
    CHECK_THAT(readFile(log), Catch::Contains("cannot create it") &&
                                  Catch::Contains("Permission denied"));
  }
}
