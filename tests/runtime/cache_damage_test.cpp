// Damaged files, every way one byte or one length can be wrong: each
// truncation and each single-bit flip of a real cache entry is refused and
// its kernel compiled again; each of a real bundle is refused with an
// error. And two packjit versions sharing one directory.
#include "packjit/core/error.h"
#include "packjit/runtime/bundle.h"
#include "packjit/runtime/disk_cache.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <iostream>
#include <unistd.h>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

namespace {

KernelImage imageWithCubin(const KernelSpec &spec) {
  KernelImage image = fakeImage(spec, 96);
  image.cubin = std::string("\x7f"
                            "ELF cubin of ",
                            13) +
                spec.fileStem();
  image.cubinTarget = cubinTargetFor("sm_90", 13000);
  return image;
}

// Writes `bytes` at the entry's path and loads it: true when the damaged
// file was loaded (it never should be). With `recompile`, then goes through
// loadOrProduce and checks that it compiled the right image.
bool damagedEntryLoads(DiskCache &cache, const KernelSpec &spec,
                       const KernelImage &right, const std::string &bytes,
                       bool recompile, int *recompiles) {
  // A new file, not one truncated in place (ext4 flushes those on close).
  unlink(cache.entryPath(spec).c_str());
  writeFile(cache.entryPath(spec), bytes);
  bool loaded = cache.load(spec).has_value();
  if (recompile) {
    bool produced = false;
    KernelImage image = cache.loadOrProduce(
        spec, [&] { return right; }, &produced);
    *recompiles += produced;
    if (!(image == right))
      FAIL("loadOrProduce returned another image");
  }
  return loaded;
}

} // namespace

TEST_CASE("every truncation and every bit flip of a cache entry is refused "
          "and recompiled",
          "[runtime][disk][fault]") {
  TempDir dir;
  DiskCache cache(settingsFor(dir.path()));
  KernelSpec spec = testSpec();
  KernelImage right = imageWithCubin(spec);
  const std::string good = encodeCacheEntry({spec.canonical(), right});

  // Every truncation and extension is loaded and then recompiled; every
  // bit flip is loaded, and one per byte (bit = byte % 8) also recompiled
  // (a full write each: the sample keeps the test fast).
  int truncations = 0, flips = 0, loaded = 0, recompiles = 0, sampled = 0;
  for (size_t length = 0; length < good.size(); ++length, ++truncations)
    loaded += damagedEntryLoads(cache, spec, right, good.substr(0, length),
                                true, &recompiles);
  loaded +=
      damagedEntryLoads(cache, spec, right, good + '\0', true, &recompiles);
  ++truncations;
  for (size_t byte = 0; byte < good.size(); ++byte)
    for (int bit = 0; bit < 8; ++bit, ++flips) {
      std::string flipped = good;
      flipped[byte] ^= static_cast<char>(1 << bit);
      bool recompile = static_cast<size_t>(bit) == byte % 8;
      sampled += recompile;
      loaded += damagedEntryLoads(cache, spec, right, flipped, recompile,
                                  &recompiles);
    }
  std::cout << "cache entry of " << good.size() << " bytes: " << truncations
            << " truncations/extensions and " << flips << " single-bit flips; "
            << loaded << " loaded, " << recompiles << " recompiled (of "
            << truncations + sampled << " tried)\n";
  CHECK(loaded == 0);
  CHECK(recompiles == truncations + sampled);
  // The last recompile replaced the damaged file with the intact entry.
  CHECK(readFile(cache.entryPath(spec)) == good);
  CHECK(cache.load(spec) == right);
}

TEST_CASE("every truncation and every bit flip of a bundle is refused",
          "[runtime][aot][fault]") {
  std::vector<CacheEntry> entries;
  for (int64_t size : {1024, 4096}) {
    KernelSpec spec = testSpec("test_kernel", size);
    entries.push_back({spec.canonical(), imageWithCubin(spec)});
  }
  const std::string good = encodeBundle(entries);
  REQUIRE(Bundle::decode(good, "good.pjb").entries().size() == 2);

  int damaged = 0, refused = 0;
  auto check = [&](const std::string &bytes) {
    ++damaged;
    try {
      Bundle::decode(bytes, "damaged.pjb");
    } catch (const Error &e) {
      refused += std::string(e.what()).find("damaged.pjb") != std::string::npos;
    }
  };
  for (size_t length = 0; length < good.size(); ++length)
    check(good.substr(0, length));
  check(good + '\0');
  for (size_t byte = 0; byte < good.size(); ++byte)
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = good;
      flipped[byte] ^= static_cast<char>(1 << bit);
      check(flipped);
    }
  std::cout << "bundle of " << good.size() << " bytes: " << damaged
            << " truncations, extensions and single-bit flips; " << refused
            << " refused with an error naming the file\n";
  CHECK(refused == damaged);
}

TEST_CASE("two packjit versions share one cache directory",
          "[runtime][disk][fault]") {
  TempDir dir;
  // Two DiskCaches on one directory stand for two installed versions: the
  // compiler version is part of every key (and so of the file name), the
  // format version is the file's.
  DiskCache ours(settingsFor(dir.path()));
  DiskCache theirs(settingsFor(dir.path()));
  KernelSpec ourSpec = testSpec();
  KernelSpec theirSpec = ourSpec;
  theirSpec.compilerVersion = "packjit-9.9.9+mlir-23.r7";
  REQUIRE(ourSpec.fileStem() != theirSpec.fileStem());
  KernelImage ourImage = fakeImage(ourSpec), theirImage = fakeImage(theirSpec);

  SECTION("each loads its own entries and never the other's") {
    int compiles = 0;
    for (int round = 0; round < 3; ++round) {
      bool produced = false;
      CHECK(ours.loadOrProduce(
                ourSpec,
                [&] {
                  ++compiles;
                  return ourImage;
                },
                &produced) == ourImage);
      CHECK(theirs.loadOrProduce(
                theirSpec,
                [&] {
                  ++compiles;
                  return theirImage;
                },
                &produced) == theirImage);
    }
    CHECK(compiles == 2); // once each; later rounds hit
    std::vector<DiskCache::FileInfo> files = ours.list();
    REQUIRE(files.size() == 2);
    for (const DiskCache::FileInfo &file : files)
      CHECK(file.entry.has_value());
  }

  SECTION("the other version's entry under our name is not loaded") {
    theirs.store(theirSpec, theirImage);
    writeFile(ours.entryPath(ourSpec), readFile(theirs.entryPath(theirSpec)));
    CHECK_FALSE(ours.load(ourSpec).has_value());
    bool produced = false;
    CHECK(ours.loadOrProduce(
              ourSpec, [&] { return ourImage; }, &produced) == ourImage);
    CHECK(produced);
    CHECK(theirs.load(theirSpec) == theirImage); // theirs is untouched
  }

  SECTION("a file of another format version is replaced, not loaded") {
    ours.store(ourSpec, ourImage);
    std::string bytes = readFile(ours.entryPath(ourSpec));
    // Bytes 8..11 hold the format version; the checksum does not cover them.
    bytes[8] = static_cast<char>(kCacheFormatVersion + 1);
    writeFile(ours.entryPath(ourSpec), bytes);
    CHECK_FALSE(ours.load(ourSpec).has_value());
    bool produced = false;
    CHECK(ours.loadOrProduce(
              ourSpec, [&] { return ourImage; }, &produced) == ourImage);
    CHECK(produced);
    CHECK(readFile(ours.entryPath(ourSpec))[8] ==
          static_cast<char>(kCacheFormatVersion));
  }
}
