// A cache entry is code this process will run: entries another user owns
// or could have written, symbolic links and other non-regular files are
// refused with one warning, and their kernels compiled instead.
#include "child_process.h"
#include "packjit/runtime/disk_cache.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;
using namespace std::chrono_literals;

namespace {

constexpr uid_t kOtherUser = 65534; // nobody

// Loads `spec` through loadOrProduce; checks the right image came back.
bool recompiles(DiskCache &cache, const KernelSpec &spec) {
  bool produced = false;
  KernelImage image = cache.loadOrProduce(
      spec, [&] { return fakeImage(spec); }, &produced);
  CHECK(image == fakeImage(spec));
  return produced;
}

std::string refusalFor(DiskCache &cache, const KernelSpec &spec) {
  for (const DiskCache::FileInfo &file : cache.list())
    if (file.path == cache.entryPath(spec))
      return file.problem;
  return "(not listed)";
}

} // namespace

TEST_CASE("entries writable by the group or others are refused",
          "[runtime][disk][fault]") {
  TempDir dir;
  std::string log = dir.path() + "/stderr.txt";
  DiskCache cache(settingsFor(dir.path() + "/cache"));
  const mode_t modes[] = {0620, 0602, 0660, 0606, 0666, 0622};
  size_t refused = 0;
  {
    CapturedStderr capture(log);
    for (mode_t mode : modes) {
      KernelSpec spec = testSpec("test_kernel", 100 + mode);
      cache.store(spec, fakeImage(spec));
      REQUIRE(chmod(cache.entryPath(spec).c_str(), mode) == 0);
      CAPTURE(mode);
      CHECK_THAT(refusalFor(cache, spec),
                 Catch::Contains("refused: writable by its group or others"));
      bool loaded = cache.load(spec).has_value();
      CHECK_FALSE(loaded);
      refused += !loaded;
      CHECK(recompiles(cache, spec));
      // The recompiled entry replaced the file, with the cache's own mode.
      struct stat info;
      REQUIRE(stat(cache.entryPath(spec).c_str(), &info) == 0);
      CHECK((info.st_mode & 0777) == 0600);
      CHECK_FALSE(recompiles(cache, spec));
    }
  }
  CHECK(refused == std::size(modes));
  std::string warnings = readFile(log);
  CHECK(countOccurrences(warnings, "refusing kernel cache file") == 1);
  CHECK_THAT(warnings, Catch::Contains("mode 0620"));
  CHECK(cache.usable());
}

TEST_CASE("entries owned by another user are refused",
          "[runtime][disk][fault]") {
  if (geteuid() != 0) {
    // Only root can give a file to another user; CI as root runs this.
    WARN("not root: the other-owner case is not run here");
    return;
  }
  TempDir dir;
  std::string log = dir.path() + "/stderr.txt";
  DiskCache cache(settingsFor(dir.path() + "/cache"));
  KernelSpec spec = testSpec();
  cache.store(spec, fakeImage(spec));
  std::string path = cache.entryPath(spec);
  REQUIRE(chown(path.c_str(), kOtherUser, kOtherUser) == 0);
  {
    CapturedStderr capture(log);
    CHECK_FALSE(cache.load(spec).has_value());
    CHECK_THAT(refusalFor(cache, spec),
               Catch::Contains("refused: owned by uid 65534"));
    // Given back, the same bytes load: the owner was the only reason.
    REQUIRE(chown(path.c_str(), 0, 0) == 0);
    CHECK(cache.load(spec) == fakeImage(spec));
    REQUIRE(chown(path.c_str(), kOtherUser, kOtherUser) == 0);
    CHECK(recompiles(cache, spec));
  }
  struct stat info;
  REQUIRE(stat(path.c_str(), &info) == 0);
  CHECK(info.st_uid == 0); // replaced by our own entry
  CHECK_FALSE(recompiles(cache, spec));
  std::string warnings = readFile(log);
  CHECK(countOccurrences(warnings, "refusing kernel cache file") == 1);
  CHECK_THAT(warnings, Catch::Contains("owned by uid 65534, not by this "
                                       "process's user (uid 0)"));
}

TEST_CASE("symbolic links and other non-regular entries are refused without "
          "blocking",
          "[runtime][disk][fault]") {
  TempDir dir;
  CacheSettings settings = settingsFor(dir.path() + "/cache");
  KernelSpec spec = testSpec();
  std::string path;
  std::string expected;
  {
    DiskCache cache(settings);
    cache.store(spec, fakeImage(spec));
    path = cache.entryPath(spec);
  }
  SECTION("a symbolic link to an intact entry") {
    REQUIRE(rename(path.c_str(), (dir.path() + "/elsewhere.pjk").c_str()) == 0);
    REQUIRE(symlink((dir.path() + "/elsewhere.pjk").c_str(), path.c_str()) ==
            0);
    expected = "a symbolic link";
  }
  SECTION("a FIFO (a plain open would wait for a writer forever)") {
    REQUIRE(unlink(path.c_str()) == 0);
    REQUIRE(mkfifo(path.c_str(), 0600) == 0);
    expected = "not a regular file";
  }
  SECTION("a directory") {
    REQUIRE(unlink(path.c_str()) == 0);
    REQUIRE(mkdir(path.c_str(), 0700) == 0);
    expected = "not a regular file";
  }
  // In a child, so that a blocking open fails the test instead of hanging it.
  ChildEnd end = runInChild(
      [&] {
        DiskCache cache(settings);
        if (cache.load(spec).has_value())
          return 10;
        if (refusalFor(cache, spec).find(expected) == std::string::npos)
          return 11;
        bool produced = false;
        KernelImage image = cache.loadOrProduce(
            spec, [&] { return fakeImage(spec); }, &produced);
        return image == fakeImage(spec) && produced ? 0 : 12;
      },
      10s);
  INFO("the reader " << end.describe());
  CHECK(end.exited);
  CHECK(end.code == 0);
}
