// The in-memory cache over a fake module loader: one load per key under
// concurrency, cubins cached for the next process, and the hot path's cost.
#include "packjit/core/error.h"
#include "packjit/core/kernel_templates.h"
#include "packjit/runtime/kernel_cache.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <thread>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

namespace {

// Stands in for the driver under the real ImageLoadPolicy: "compiles" PTX
// to a cubin by prefixing it, and refuses the cubins that start with
// `refusedPrefix` (a driver older than the ptxas that made them).
class FakeLoader final : public ModuleLoader {
public:
  DeviceTarget target(int device) override {
    return {device == 0 ? "sm_90" : "sm_80", 78, 13000};
  }
  LoadedModule load(int device, const KernelSpec &spec, KernelImage &image,
                    bool *madeCubin) override {
    ++loads;
    policy.load(
        spec, image, cubinTargetFor(target(device).arch, 13000),
        [this](const std::string &cubin) {
          std::lock_guard lock(mutex);
          if (!refusedPrefix.empty() && cubin.starts_with(refusedPrefix))
            return CUDA_ERROR_INVALID_IMAGE;
          loadedCubins.push_back(cubin);
          return CUDA_SUCCESS;
        },
        [this](const std::string &ptx) {
          ++jits;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          return "CUBIN:" + ptx;
        },
        madeCubin);
    LoadedModule module;
    module.function =
        reinterpret_cast<CUfunction>(static_cast<uintptr_t>(0x1000 + loads));
    return module;
  }
  std::atomic<int> loads{0}, jits{0};
  std::string refusedPrefix;
  std::mutex mutex;
  std::vector<std::string> loadedCubins; // each cubin the "driver" took

private:
  ImageLoadPolicy policy;
};

struct Fixture {
  TempDir dir;
  std::shared_ptr<FakeLoader> loader = std::make_shared<FakeLoader>();
  std::atomic<int> compiles{0};
  std::mutex textsMutex;
  std::vector<std::string> compiledTexts; // what each compile was given

  std::vector<std::string> bundlePaths;

  KernelCacheOptions options() {
    KernelCacheOptions options;
    options.settings = settingsFor(dir.path());
    options.bundlePaths = bundlePaths;
    options.compile = [this](const KernelSpec &spec, std::string_view text) {
      ++compiles;
      {
        std::lock_guard lock(textsMutex);
        compiledTexts.emplace_back(text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      return fakeImage(spec);
    };
    options.loader = loader;
    return options;
  }
};

} // namespace

TEST_CASE("many threads asking for one key compile and load it once",
          "[runtime][memory]") {
  Fixture fixture;
  KernelCache cache(fixture.options());
  KernelSpec spec = testSpec();
  constexpr int kThreads = 8;
  std::vector<const Kernel *> seen(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back(
        [&, i] { seen[i] = &cache.get(testContract(), spec, 0); });
  for (std::thread &thread : threads)
    thread.join();
  for (const Kernel *kernel : seen)
    CHECK(kernel == seen[0]);
  CHECK(fixture.compiles == 1);
  CHECK(fixture.loader->loads == 1);
  CHECK(seen[0]->spec == spec);
  CHECK(seen[0]->params == testContract().params().params);
  CHECK(seen[0]->origin == ImageOrigin::Compiled);
  CHECK(cache.stats().memoryMisses == 1);

  // Another device is another entry.
  const Kernel &other = cache.get(testContract(), spec, 1);
  CHECK(&other != seen[0]);
  CHECK(other.device == 1);
  CHECK(fixture.loader->loads == 2);
}

TEST_CASE("the next process loads the cached cubin and skips the PTX JIT",
          "[runtime][memory]") {
  Fixture fixture;
  KernelSpec spec = testSpec();
  {
    KernelCache first(fixture.options());
    const Kernel &kernel = first.get(testContract(), spec, 0);
    CHECK(kernel.origin == ImageOrigin::Compiled);
    CHECK_FALSE(kernel.cubinReused);
  }
  std::optional<KernelImage> stored =
      DiskCache(settingsFor(fixture.dir.path())).load(spec);
  REQUIRE(stored.has_value());
  CHECK(stored->cubin == "CUBIN:" + fakeImage(spec).ptx);
  CHECK(stored->cubinTarget == "sm_90/driver=13000");

  KernelCache second(fixture.options()); // a warm process
  const Kernel &kernel = second.get(testContract(), spec, 0);
  CHECK(kernel.origin == ImageOrigin::Disk);
  CHECK(kernel.cubinReused);
  CHECK(fixture.compiles == 1);
  CHECK(fixture.loader->jits == 1);
  KernelCache::Stats stats = second.stats();
  CHECK(stats.diskHits == 1);
  CHECK(stats.compiles == 0);
  CHECK(stats.cubinsReused == 1);
}

namespace {

const std::string kPtxas = "13.0.88";

// A bundle at dir/name.pjb of `specs`, each image with `cubin` (prefixed
// with its S) made by ptxas for `cubinArch` (none when empty).
std::string bundleOf(const TempDir &dir, const std::string &name,
                     const std::vector<KernelSpec> &specs,
                     const std::string &cubinArch, const std::string &cubin) {
  std::vector<CacheEntry> entries;
  for (const KernelSpec &spec : specs) {
    CacheEntry entry{spec.canonical(), fakeImage(spec)};
    if (!cubinArch.empty()) {
      entry.image.cubin =
          cubin + std::to_string(spec.constexprs.at("S")) + " " + spec.arch;
      entry.image.cubinTarget = ptxasCubinTarget(cubinArch, kPtxas);
    }
    entries.push_back(std::move(entry));
  }
  std::string path = dir.path() + "/" + name + ".pjb";
  writeBundle(path, entries);
  return path;
}

} // namespace

TEST_CASE("a bundle's ptxas cubin for the device's arch loads without the "
          "PTX JIT",
          "[runtime][aot]") {
  Fixture fixture;
  TempDir bundles;
  KernelSpec onSm90 = testSpec("test_kernel", 4096, "sm_90");
  KernelSpec onSm80 = testSpec("test_kernel", 4096, "sm_80");
  fixture.bundlePaths = {bundleOf(bundles, "sm90", {onSm90}, "sm_90", "SASS:"),
                         bundleOf(bundles, "sm80", {onSm80}, "sm_80", "SASS:")};
  KernelCache cache(fixture.options());
  const Kernel &kernel = cache.get(testContract(), onSm90, 0);
  CHECK(kernel.origin == ImageOrigin::Bundle);
  CHECK(kernel.cubinReused);
  CHECK(cache.get(testContract(), onSm80, 1).cubinReused); // device 1: sm_80
  CHECK(fixture.loader->loadedCubins ==
        std::vector<std::string>{"SASS:4096 sm_90", "SASS:4096 sm_80"});
  CHECK(fixture.loader->jits == 0);
  CHECK(fixture.compiles == 0);
  KernelCache::Stats stats = cache.stats();
  CHECK(stats.bundleHits == 2);
  CHECK(stats.cubinsReused == 2);
  CHECK(stats.cubinsMade == 0);
  // Nothing was made, so nothing is cached on disk.
  CHECK_FALSE(DiskCache(settingsFor(fixture.dir.path())).load(onSm90));
}

TEST_CASE("a bundle cubin for another arch is not tried: the PTX is "
          "JIT-compiled and cached",
          "[runtime][aot]") {
  Fixture fixture;
  TempDir bundles;
  KernelSpec spec = testSpec("test_kernel", 4096, "sm_90");
  fixture.bundlePaths = {bundleOf(bundles, "b", {spec}, "sm_80", "SASS:")};
  std::string log;
  {
    KernelCache cache(fixture.options());
    CapturedStderr captured(fixture.dir.path() + "/stderr.txt");
    const Kernel &kernel = cache.get(testContract(), spec, 0);
    log = captured.text();
    CHECK(kernel.origin == ImageOrigin::Bundle);
    CHECK_FALSE(kernel.cubinReused);
    CHECK(cache.stats().cubinsMade == 1);
  }
  CHECK_THAT(log, !Catch::Contains("refused")); // nothing to warn about
  CHECK(fixture.loader->loadedCubins ==
        std::vector<std::string>{"CUBIN:" + fakeImage(spec).ptx});
  CHECK(fixture.loader->jits == 1);
  std::optional<KernelImage> stored =
      DiskCache(settingsFor(fixture.dir.path())).load(spec);
  REQUIRE(stored.has_value());
  CHECK(stored->cubinTarget == "sm_90/driver=13000");
}

TEST_CASE("a cubin the driver refuses is logged once, the PTX JIT-compiled, "
          "and the next process loads the driver's",
          "[runtime][aot]") {
  Fixture fixture;
  fixture.loader->refusedPrefix = "SASS:";
  TempDir bundles;
  KernelSpec first = testSpec("test_kernel", 4096);
  KernelSpec second = testSpec("test_kernel", 1024);
  fixture.bundlePaths = {
      bundleOf(bundles, "b", {first, second}, "sm_90", "SASS:")};
  std::string log;
  {
    KernelCache cache(fixture.options());
    CapturedStderr captured(fixture.dir.path() + "/stderr.txt");
    CHECK_FALSE(cache.get(testContract(), first, 0).cubinReused);
    CHECK_FALSE(cache.get(testContract(), second, 0).cubinReused);
    log = captured.text();
    KernelCache::Stats stats = cache.stats();
    CHECK(stats.bundleHits == 2);
    CHECK(stats.cubinsMade == 2);
    CHECK(stats.cubinsReused == 0);
  }
  CHECK_THAT(log, Catch::Contains("packjit[warn]: the driver "
                                  "(sm_90/driver=13000) refused the cubin "
                                  "(sm_90/ptxas=13.0.88) of " +
                                  first.fileStem() + " with ") &&
                      Catch::Contains("(200); JIT-compiling its PTX instead") &&
                      Catch::Contains("packjit aot --ptxas"));
  // One warning: the second refusal is logged at info.
  const std::string warning = "packjit[warn]: the driver";
  CHECK(log.find(warning) == log.rfind(warning));
  CHECK(fixture.loader->jits == 2);
  CHECK(fixture.loader->loadedCubins ==
        std::vector<std::string>{"CUBIN:" + fakeImage(first).ptx,
                                 "CUBIN:" + fakeImage(second).ptx});

  // The next process finds the driver's cubin in the disk cache and loads
  // it: no refusal, no JIT.
  KernelCache next(fixture.options());
  const Kernel &kernel = next.get(testContract(), first, 0);
  CHECK(kernel.origin == ImageOrigin::Bundle);
  CHECK(kernel.cubinReused);
  CHECK(fixture.loader->jits == 2);
  CHECK(fixture.loader->loadedCubins.back() == "CUBIN:" + fakeImage(first).ptx);
  CHECK(fixture.compiles == 0);
}

TEST_CASE("a failed compile is reported and retried on the next call",
          "[runtime][memory]") {
  Fixture fixture;
  KernelCacheOptions options = fixture.options();
  int attempts = 0;
  options.compile = [&](const KernelSpec &spec, std::string_view) {
    if (++attempts == 1)
      throw Error("compile failed: bad template");
    return fakeImage(spec);
  };
  KernelCache cache(options);
  KernelSpec spec = testSpec();
  CHECK_THROWS_WITH(cache.get(testContract(), spec, 0),
                    Catch::Contains("bad template"));
  CHECK(cache.get(testContract(), spec, 0).spec == spec);
  CHECK(attempts == 2);
}

TEST_CASE("a spec is loaded only with its own template's contract",
          "[runtime][memory]") {
  Fixture fixture;
  KernelCache cache(fixture.options());
  CHECK_THROWS_WITH(
      cache.get(KernelContract::of("mask_scan"), testSpec(), 0),
      Catch::Contains("is not a specialization of the contract of "
                      "'mask_scan'"));
  CHECK(fixture.compiles == 0);
}

// Its hit's cost is measured by packjit_launch_bench, not asserted here.
TEST_CASE("a kernel family binds by name and hits the same kernel",
          "[runtime][memory]") {
  Fixture fixture;
  KernelCache cache(fixture.options());
  KernelFamily family(testContract(), &cache);
  const ConstexprSlot size = family.slot("S");
  const DType dtypes[] = {DType::Int32};
  ConstexprValues values = family.defaults();
  values.set(size, 4096);
  const Kernel &kernel = family.get(0, dtypes, values);

  // The family binds by name and fills the defaults (BLOCK).
  KernelSpec expected = KernelBinding(family.contract())
                            .dtype("T", DType::Int32)
                            .set("S", 4096)
                            .arch("sm_90")
                            .ptxVersion(78)
                            .spec();
  CHECK(kernel.spec == expected);
  CHECK(kernel.params == family.contract().params().params);
  CHECK(&cache.get(family.contract(), expected, 0) == &kernel);

  ConstexprValues other = values;
  other.set(size, 8192);
  CHECK(&family.get(0, dtypes, other) != &kernel);
  CHECK(&family.get(1, dtypes, values) != &kernel);
  CHECK(family.get(1, dtypes, values).spec.arch == "sm_80");

  for (int i = 0; i < 1000; ++i)
    REQUIRE(&family.get(0, dtypes, values) == &kernel);
}

TEST_CASE("a family refuses what the template's header forbids, by name",
          "[runtime][memory]") {
  Fixture fixture;
  KernelCache cache(fixture.options());
  KernelFamily gather("gather_rows", &cache);
  const DType dtypes[] = {DType::Float32};
  ConstexprValues values = gather.defaults();
  values.set(gather.slot("LANES"), 1024);
  CHECK_THROWS_WITH(gather.get(0, dtypes, values),
                    "constexpr LANES=1024 of kernel 'gather_rows' does not "
                    "divide BLOCK=256 (declared: LANES = 32 in 1..1024 "
                    "power_of_2 divides BLOCK)");
  CHECK_THROWS_WITH(gather.slot("S"),
                    Catch::StartsWith("kernel 'gather_rows' has no constexpr "
                                      "'S' (parameters: "));
  const DType wrong[] = {DType::Int8};
  CHECK_THROWS_WITH(gather.get(0, wrong, gather.defaults()),
                    Catch::StartsWith("kernel 'gather_rows' does not support "
                                      "dtype 'i8' for T"));
  CHECK(fixture.compiles == 0); // nothing invalid reached the compiler
}

// A kernel of one's own (docs/compiler.md, "Adding a kernel"): not embedded
// anywhere, its text reaches the compiler through its contract.
constexpr const char *kUserTemplate = R"(// a kernel of one's own
// @dtype T: f32 f16
// @constexpr BLOCK = 128 in 32..1024 multiple_of 32
gpu.module @packjit {
  gpu.func @user_kernel(%x: !llvm.ptr<1>, %scale: !llvm.ptr<1>, %cols: i64,
                        %block: i64 {packjit.constexpr = "BLOCK"}) kernel {
    gpu.return
  }
}
)";

TEST_CASE("a family over a template given as text compiles that text and "
          "caches it in memory and on disk",
          "[runtime][memory]") {
  Fixture fixture;
  const DType dtypes[] = {DType::Float16};
  const KernelContract contract =
      KernelContract::fromText("user_kernel", kUserTemplate);
  {
    KernelCache cache(fixture.options());
    KernelFamily family(contract, &cache);
    ConstexprValues values = family.defaults();
    values.set(family.slot("BLOCK"), 64);
    const Kernel &kernel = family.get(0, dtypes, values);
    CHECK(kernel.origin == ImageOrigin::Compiled);
    CHECK(kernel.spec.templateHash == hash128(kUserTemplate).hex());
    CHECK(kernel.spec.constexprs.at("BLOCK") == 64);
    CHECK(kernel.params.size() == 3);
    REQUIRE(fixture.compiledTexts.size() == 1);
    CHECK(fixture.compiledTexts[0] == kUserTemplate);
    CHECK(&family.get(0, dtypes, values) == &kernel); // memory
    CHECK(fixture.compiles == 1);
  }
  // The next process: the same text is the same key, on disk.
  KernelCache cache(fixture.options());
  KernelFamily family(contract, &cache);
  CHECK(family.get(0, dtypes, family.defaults()).origin ==
        ImageOrigin::Compiled); // BLOCK=128 is another key
  ConstexprValues values = family.defaults();
  values.set(family.slot("BLOCK"), 64);
  CHECK(family.get(0, dtypes, values).origin == ImageOrigin::Disk);
  CHECK(fixture.compiles == 2);

  // An edited template is another key: compiled anew, from the new text.
  const std::string edited = std::string(kUserTemplate) + "// edited\n";
  KernelFamily editedFamily(KernelContract::fromText("user_kernel", edited),
                            &cache);
  CHECK(editedFamily.get(0, dtypes, values).origin == ImageOrigin::Compiled);
  CHECK(fixture.compiles == 3);
  CHECK(fixture.compiledTexts.back() == edited);
}

TEST_CASE("an embedded kernel compiles from its embedded text",
          "[runtime][memory]") {
  Fixture fixture;
  KernelCache cache(fixture.options());
  KernelFamily gather("gather_rows", &cache);
  const DType dtypes[] = {DType::Float32};
  gather.get(0, dtypes, gather.defaults());
  REQUIRE(fixture.compiledTexts.size() == 1);
  CHECK(fixture.compiledTexts[0] == kernelTemplate("gather_rows").text);
}

// kernel_cache.h's example, as written there but with this test's cache
// (so not static).
TEST_CASE("the KernelFamily example of kernel_cache.h compiles and loads",
          "[runtime][memory]") {
  Fixture fixture;
  KernelCache cache(fixture.options());
  const int device = 0;
  KernelFamily scan("mask_scan", &cache);
  const ConstexprSlot chunk = scan.slot("CHUNK");
  const DType dtypes[] = {DType::Int64};
  ConstexprValues values = scan.defaults();
  values.set(chunk, 64);
  const Kernel &k = scan.get(device, dtypes, values);
  CHECK(k.spec.constexprs == std::map<std::string, int64_t>{{"BLOCK", 256},
                                                            {"CHUNK", 64},
                                                            {"PADDED", 0},
                                                            {"SEQ", 0},
                                                            {"STRICT", 1}});
  CHECK(k.params.size() == 10); // mask .. sequence (kernels_src/mask_scan.mlir)
  CHECK(k.params[1].name == "N");
  CHECK(values[chunk] == 64);
  CHECK(scan.defaults()[chunk] == 32);
}
