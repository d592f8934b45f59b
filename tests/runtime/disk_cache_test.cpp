// The disk cache within one process: format, damage, version, atomicity,
// unusable directories and the size cap.
#include "packjit/runtime/disk_cache.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

TEST_CASE("a stored entry loads back identical", "[runtime][disk]") {
  TempDir dir;
  DiskCache cache(settingsFor(dir.path() + "/cache"));
  KernelSpec spec = testSpec();
  KernelImage image = fakeImage(spec);
  image.cubin = std::string("\x7f"
                            "ELF\0binary",
                            10);
  image.cubinTarget = cubinTargetFor("sm_90", 13000);

  CHECK_FALSE(cache.load(spec).has_value());
  cache.store(spec, image);
  std::optional<KernelImage> loaded = cache.load(spec);
  REQUIRE(loaded.has_value());
  CHECK(*loaded == image);
  CHECK(cache.entryPath(spec) ==
        dir.path() + "/cache/" + spec.fileStem() + ".pjk");

  struct stat info;
  REQUIRE(stat((dir.path() + "/cache").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0700);
  // Self-describing: the canonical key is readable in the file.
  CHECK(readFile(cache.entryPath(spec)).find(spec.canonical()) !=
        std::string::npos);
}

TEST_CASE("damaged entries are ignored and replaced", "[runtime][disk]") {
  TempDir dir;
  DiskCache cache(settingsFor(dir.path()));
  KernelSpec spec = testSpec();
  KernelImage image = fakeImage(spec);
  cache.store(spec, image);
  std::string path = cache.entryPath(spec);
  std::string good = readFile(path);

  std::string damaged = good;
  SECTION("truncated") { damaged.resize(good.size() - 7); }
  SECTION("truncated inside the preamble") { damaged.resize(20); }
  SECTION("empty") { damaged.clear(); }
  SECTION("one payload byte flipped") { damaged[damaged.size() - 3] ^= 0x20; }
  SECTION("one header byte flipped") { damaged[45] ^= 0x01; }
  SECTION("other format version") {
    damaged[8] = static_cast<char>(kCacheFormatVersion + 1);
  }
  SECTION("bytes appended") { damaged += "garbage"; }
  SECTION("another key's entry") {
    KernelSpec other = testSpec("test_kernel", 8192);
    damaged = encodeCacheEntry({other.canonical(), fakeImage(other)});
  }
  writeFile(path, damaged);
  CHECK_FALSE(cache.load(spec).has_value());

  int compiles = 0;
  bool produced = false;
  KernelImage result = cache.loadOrProduce(
      spec,
      [&] {
        ++compiles;
        return image;
      },
      &produced);
  CHECK(produced);
  CHECK(compiles == 1);
  CHECK(result == image);
  CHECK(readFile(path) == good); // replaced by an intact entry
  REQUIRE(cache.load(spec).has_value());
}

TEST_CASE("stores are atomic: readers see a whole entry or none",
          "[runtime][disk]") {
  TempDir dir;
  DiskCache cache(settingsFor(dir.path()));
  KernelSpec spec = testSpec();
  KernelImage small = fakeImage(spec, 100);
  KernelImage large = fakeImage(spec, 200000);
  cache.store(spec, small);

  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i)
      cache.store(spec, i % 2 ? small : large);
    done = true;
  });
  std::thread reader([&] {
    while (!done) {
      std::optional<KernelImage> loaded = cache.load(spec);
      ++reads;
      if (!loaded || !(*loaded == small || *loaded == large))
        ++bad;
    }
  });
  writer.join();
  reader.join();
  CHECK(reads > 0);
  CHECK(bad == 0);
  // The entry and its lock file; no temporary file is left behind.
  std::set<std::string> files;
  for (const auto &entry : std::filesystem::directory_iterator(dir.path()))
    files.insert(entry.path().filename().string());
  CHECK(files == std::set<std::string>{spec.fileStem() + ".pjk",
                                       spec.fileStem() + ".lock"});
}

TEST_CASE(
    "an unusable cache directory degrades to memory-only with one warning",
    "[runtime][disk]") {
  TempDir dir;
  writeFile(dir.path() + "/a-file", "x");
  // Tests run as root, for whom chmod changes nothing: use paths that no one
  // can create.
  std::string unusable =
      GENERATE(as<std::string>{}, "/a-file/cache", "/proc/packjit-cache");
  std::string cacheDir =
      unusable.rfind("/proc", 0) == 0 ? unusable : dir.path() + unusable;
  DiskCache cache(settingsFor(cacheDir));
  std::string log = dir.path() + "/stderr.txt";
  int compiles = 0;
  {
    CapturedStderr capture(log);
    for (int i = 0; i < 3; ++i) {
      KernelSpec spec = testSpec("test_kernel", 100 + i);
      bool produced = false;
      KernelImage image = cache.loadOrProduce(
          spec,
          [&] {
            ++compiles;
            return fakeImage(spec);
          },
          &produced);
      CHECK(produced);
      CHECK(image == fakeImage(spec));
      cache.store(spec, image);
    }
  }
  CHECK(compiles == 3);
  CHECK_FALSE(cache.usable());
  std::string warnings = readFile(log);
  CHECK(countOccurrences(warnings, "memory only") == 1);
  CHECK(warnings.find(cacheDir) != std::string::npos);
}

TEST_CASE("PACKJIT_CACHE_MAX_MB: only a positive number that fits",
          "[runtime][disk]") {
  for (const char *bad : {"-5", "0", "12x", " 7", "+7", "99999999999999999999",
                          "17592186044416"}) {
    CAPTURE(bad);
    setenv("PACKJIT_CACHE_MAX_MB", bad, 1);
    CHECK(cacheSettingsFromEnvironment().maxBytes == kDefaultCacheMaxMegabytes
                                                         << 20);
  }
  setenv("PACKJIT_CACHE_MAX_MB", "17592186044415", 1); // (2^64 - 1) >> 20
  CHECK(cacheSettingsFromEnvironment().maxBytes == uint64_t{17592186044415}
                                                       << 20);
  unsetenv("PACKJIT_CACHE_MAX_MB");
}

TEST_CASE("PACKJIT_CACHE=off and the directory variables", "[runtime][disk]") {
  setenv("PACKJIT_CACHE_DIR", "/somewhere/explicit", 1);
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  setenv("PACKJIT_CACHE_MAX_MB", "7", 1);
  setenv("PACKJIT_CACHE", "off", 1);
  CacheSettings settings = cacheSettingsFromEnvironment();
  CHECK_FALSE(settings.diskEnabled);
  CHECK(settings.directory == "/somewhere/explicit");
  CHECK(settings.maxBytes == 7u << 20);
  unsetenv("PACKJIT_CACHE_DIR");
  unsetenv("PACKJIT_CACHE");
  unsetenv("PACKJIT_CACHE_MAX_MB");
  settings = cacheSettingsFromEnvironment();
  CHECK(settings.diskEnabled);
  CHECK(settings.directory == "/xdg/packjit");
  CHECK(settings.maxBytes == kDefaultCacheMaxMegabytes << 20);
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/someone", 1);
  CHECK(cacheSettingsFromEnvironment().directory ==
        "/home/someone/.cache/packjit");

  TempDir dir;
  CacheSettings off = settingsFor(dir.path());
  off.diskEnabled = false;
  DiskCache cache(off);
  KernelSpec spec = testSpec();
  cache.store(spec, fakeImage(spec));
  CHECK_FALSE(fileExists(cache.entryPath(spec)));
  CHECK_FALSE(cache.load(spec).has_value());
}

TEST_CASE("the size cap evicts the least recently used entries",
          "[runtime][disk]") {
  TempDir dir;
  KernelSpec probe = testSpec("test_kernel", 0);
  uint64_t entrySize =
      encodeCacheEntry({probe.canonical(), fakeImage(probe, 4000)}).size();
  // Room for three entries (the specs' texts differ by a few digits at most).
  DiskCache cache(settingsFor(dir.path(), entrySize * 3 + entrySize / 2));
  std::vector<KernelSpec> specs;
  for (int i = 0; i < 4; ++i)
    specs.push_back(testSpec("test_kernel", 1000 + i));
  for (int i = 0; i < 3; ++i) {
    cache.store(specs[i], fakeImage(specs[i], 4000));
    // Distinct, known ages: entry 0 oldest.
    timespec times[2] = {{1000 + i, 0}, {1000 + i, 0}};
    REQUIRE(utimensat(AT_FDCWD, cache.entryPath(specs[i]).c_str(), times, 0) ==
            0);
  }
  REQUIRE(cache.load(specs[0]).has_value()); // entry 0 becomes the most recent
  cache.store(specs[3], fakeImage(specs[3], 4000));

  CHECK(fileExists(cache.entryPath(specs[0])));
  CHECK_FALSE(fileExists(cache.entryPath(specs[1]))); // least recently used
  CHECK(fileExists(cache.entryPath(specs[2])));
  CHECK(fileExists(cache.entryPath(specs[3])));
  uint64_t total = 0;
  for (const DiskCache::FileInfo &file : cache.list())
    total += file.size;
  CHECK(total <= cache.settings().maxBytes);
  CHECK(cache.list().size() == 3);
}

TEST_CASE("list reports damaged files and clear removes everything",
          "[runtime][disk]") {
  TempDir dir;
  DiskCache cache(settingsFor(dir.path()));
  KernelSpec a = testSpec("test_kernel", 1), b = testSpec("test_kernel", 2);
  cache.store(a, fakeImage(a));
  cache.store(b, fakeImage(b));
  writeFile(cache.entryPath(b), "PJKENTRY but not really");
  std::vector<DiskCache::FileInfo> files = cache.list();
  REQUIRE(files.size() == 2);
  int intact = 0;
  for (const auto &file : files) {
    if (file.entry) {
      ++intact;
      CHECK(file.entry->key == a.canonical());
    } else {
      CHECK_FALSE(file.problem.empty());
    }
  }
  CHECK(intact == 1);
  CHECK(cache.clear() == 2);
  CHECK(cache.list().empty());
}
