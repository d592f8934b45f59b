// AOT bundles: round trip, damage, and their place before the disk cache.
#include "framed_file.h"
#include "packjit/core/error.h"
#include "packjit/core/version.h"
#include "packjit/runtime/bundle.h"
#include "packjit/runtime/image_source.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

namespace {

std::vector<CacheEntry> sampleEntries() {
  std::vector<CacheEntry> entries;
  for (const char *arch : {"sm_80", "sm_90"})
    for (int64_t size : {1024, 4096, 65536}) {
      KernelSpec spec = testSpec("test_kernel", size, arch);
      entries.push_back({spec.canonical(), fakeImage(spec, 300 + size % 1000)});
    }
  entries[1].image.cubin = "cubin bytes";
  entries[1].image.cubinTarget = "sm_80/driver=12040";
  return entries;
}

} // namespace

TEST_CASE("a bundle round-trips every entry", "[runtime][aot]") {
  TempDir dir;
  std::string path = dir.path() + "/kernels.pjb";
  std::vector<CacheEntry> entries = sampleEntries();
  writeBundle(path, entries);
  Bundle bundle = Bundle::load(path);
  REQUIRE(bundle.entries().size() == entries.size());
  for (const CacheEntry &entry : entries) {
    const KernelImage *found = bundle.find(entry.key);
    REQUIRE(found);
    CHECK(*found == entry.image);
  }
  CHECK(bundle.find(testSpec("test_kernel", 7).canonical()) == nullptr);
}

TEST_CASE("a damaged bundle is refused with its path", "[runtime][aot]") {
  TempDir dir;
  std::string path = dir.path() + "/kernels.pjb";
  std::string bytes = encodeBundle(sampleEntries());
  SECTION("truncated") { bytes.resize(bytes.size() / 2); }
  SECTION("flipped") { bytes[bytes.size() / 2] ^= 0x40; }
  SECTION("a cache entry, not a bundle") {
    bytes = encodeCacheEntry(sampleEntries()[0]);
  }
  writeFile(path, bytes);
  CHECK_THROWS_WITH(Bundle::load(path),
                    Catch::Contains(path) && Catch::Contains("not a usable"));
  CHECK_THROWS_WITH(Bundle::load(dir.path() + "/absent.pjb"),
                    Catch::Contains("absent.pjb"));
}

TEST_CASE("a cache entry with a damaged payload size names the sizes read",
          "[runtime][disk]") {
  std::string bytes = encodeCacheEntry(sampleEntries()[0]);
  // Bytes 16..23 hold the payload size.
  const uint64_t damaged = uint64_t{1} << 63;
  for (int i = 0; i < 8; ++i)
    bytes[16 + i] = static_cast<char>((damaged >> (8 * i)) & 0xff);
  std::string why;
  CHECK_FALSE(decodeCacheEntry(bytes, &why));
  CHECK_THAT(why,
             Catch::Contains("size mismatch") &&
                 Catch::Contains(std::to_string(bytes.size()) + " bytes") &&
                 Catch::Contains("a 9223372036854775808-byte payload"));
}

// Found by fuzz/cache_file_fuzzer: sizes whose sum wraps to the payload's
// size made substr throw std::out_of_range out of the reader.
TEST_CASE("a cache entry whose header sizes wrap is refused",
          "[runtime][disk][fuzz]") {
  const std::string header =
      R"({"key":"k","entry":"k","ptx_size":18446744073709551615,)"
      R"("cubin_size":4,"cubin_target":"t","written_by":"x"})";
  const std::string bytes =
      encodeFrame("PJKENTRY", kCacheFormatVersion, header, "abc");
  std::string why;
  std::optional<CacheEntry> entry;
  REQUIRE_NOTHROW(entry = decodeCacheEntry(bytes, &why));
  CHECK_FALSE(entry);
  CHECK_THAT(why, Catch::Contains("payload sizes do not add up"));
}

// Found by fuzz/cache_file_fuzzer and fuzz/bundle_fuzzer: get<size_t>() of
// a JSON float beyond size_t (1.8e19) converted out of range (UB).
TEST_CASE("sizes that are not unsigned integers are refused",
          "[runtime][disk][aot][fuzz]") {
  const std::string entryHeader =
      R"({"key":"k","entry":"k","ptx_size":1.8446744073709552e19,)"
      R"("cubin_size":0,"cubin_target":"t","written_by":"x"})";
  std::string why;
  CHECK_FALSE(decodeCacheEntry(
      encodeFrame("PJKENTRY", kCacheFormatVersion, entryHeader, "abc"), &why));
  CHECK_THAT(why, Catch::Contains("not unsigned integers"));
  const std::string index =
      R"({"written_by":"x","entries":[{"key":"k","entry":"k",)"
      R"("ptx":[1.8446744073709552e19,2],"cubin":[0,0],"cubin_target":""}]})";
  CHECK_THROWS_WITH(
      Bundle::decode(encodeFrame("PJBUNDLE", kBundleFormatVersion, index, "ab"),
                     "b.pjb"),
      Catch::Contains("b.pjb") && Catch::Contains("not two unsigned integers"));
}

TEST_CASE("bundles are looked at before the disk cache and the compiler",
          "[runtime][aot]") {
  TempDir dir;
  std::string path = dir.path() + "/kernels.pjb";
  std::vector<CacheEntry> entries = sampleEntries();
  writeBundle(path, entries);
  int compiles = 0;
  const std::string text = testContract().templateText();
  ImageSource source(settingsFor(dir.path() + "/cache"),
                     [&](const KernelSpec &spec, std::string_view compiled) {
                       ++compiles;
                       CHECK(compiled == text);
                       return fakeImage(spec, 10);
                     });
  source.addBundle(path);
  KernelSpec inBundle = KernelSpec::parse(entries[3].key);
  ResolvedImage resolved = source.resolve(inBundle, text, "sm_90/driver=13000");
  CHECK(resolved.origin == ImageOrigin::Bundle);
  CHECK(resolved.image == entries[3].image);
  CHECK(compiles == 0);

  // A bundle entry without a cubin for this device borrows the cache's.
  KernelImage withCubin = entries[3].image;
  withCubin.cubin = "driver-made cubin";
  withCubin.cubinTarget = "sm_90/driver=13000";
  source.disk().store(inBundle, withCubin);
  CHECK(source.resolve(inBundle, text, "sm_90/driver=13000").image ==
        withCubin);
  CHECK(source.resolve(inBundle, text, "sm_90/driver=12080").image ==
        entries[3].image);

  KernelSpec missing = testSpec("test_kernel", 5);
  CHECK(source.resolve(missing, text, "").origin == ImageOrigin::Compiled);
  CHECK(source.resolve(missing, text, "").origin == ImageOrigin::Disk);
  CHECK(compiles == 1);
  CHECK(source.counters().bundleHits == 3);
}

TEST_CASE("a ptxas cubin fits every driver of its arch, a driver's cubin "
          "only its own",
          "[runtime][aot]") {
  const std::string device = cubinTargetFor("sm_90", 12080);
  CHECK(device == "sm_90/driver=12080");
  CHECK(ptxasCubinTarget("sm_90", "13.0.88") == "sm_90/ptxas=13.0.88");
  CHECK(cubinFitsDevice("sm_90/ptxas=13.0.88", device));
  CHECK(cubinFitsDevice("sm_90/ptxas=12.4.131", device));
  CHECK(cubinFitsDevice("sm_90/driver=12080", device));
  CHECK_FALSE(cubinFitsDevice("sm_90/driver=13000", device));
  CHECK_FALSE(cubinFitsDevice("sm_80/ptxas=13.0.88", device));
  CHECK_FALSE(cubinFitsDevice("sm_90a/ptxas=13.0.88", device));
  CHECK_FALSE(cubinFitsDevice("sm_9/ptxas=13.0.88", device));
  CHECK_FALSE(cubinFitsDevice("", device));
  CHECK(isPtxasCubinTarget("sm_120/ptxas=13.0.88"));
  CHECK_FALSE(isPtxasCubinTarget(device));
}

TEST_CASE("a bundle entry keeps its ptxas cubin unless the disk cache has "
          "this driver's",
          "[runtime][aot]") {
  TempDir dir;
  KernelSpec spec = testSpec("test_kernel", 4096, "sm_90");
  CacheEntry entry{spec.canonical(), fakeImage(spec)};
  entry.image.cubin = "ptxas cubin";
  entry.image.cubinTarget = ptxasCubinTarget("sm_90", "13.0.88");
  writeBundle(dir.path() + "/b.pjb", {entry});
  ImageSource source(settingsFor(dir.path() + "/cache"), nullptr);
  source.addBundle(dir.path() + "/b.pjb");
  const std::string text = testContract().templateText();
  CHECK(source.resolve(spec, text, "sm_90/driver=13000").image == entry.image);

  // What the loader leaves there after the driver refused the ptxas cubin.
  KernelImage jitted = entry.image;
  jitted.cubin = "driver cubin";
  jitted.cubinTarget = "sm_90/driver=13000";
  source.disk().store(spec, jitted);
  CHECK(source.resolve(spec, text, "sm_90/driver=13000").image == jitted);
  CHECK(source.resolve(spec, text, "sm_90/driver=13010").image == entry.image);
  CHECK(source.counters().bundleHits == 3);
}

TEST_CASE("a bundle says which packjit wrote it", "[runtime][aot]") {
  TempDir dir;
  writeBundle(dir.path() + "/b.pjb", sampleEntries());
  CHECK(Bundle::load(dir.path() + "/b.pjb").writtenBy() ==
        std::string(compilerVersion()));
}

TEST_CASE("without a compiler a missing spec is named", "[runtime][aot]") {
  // The compiler library is looked for only here: nowhere to be found.
  setenv("PACKJIT_COMPILER_LIBRARY", "/nonexistent/libpackjit_compiler.so", 1);
  TempDir dir;
  ImageSource source(settingsFor(dir.path()), nullptr);
  writeBundle(dir.path() + "/b.pjb", sampleEntries());
  source.addBundle(dir.path() + "/b.pjb");
  KernelSpec missing = testSpec("test_kernel", 12345);
  CHECK_THROWS_WITH(source.resolve(missing, testContract().templateText(), ""),
                    Catch::Contains(missing.canonical()) &&
                        Catch::Contains("no compiler is available") &&
                        Catch::Contains(dir.path() + "/b.pjb") &&
                        Catch::Contains(dir.path()));
  CHECK_FALSE(source.disk().load(missing).has_value());
}
