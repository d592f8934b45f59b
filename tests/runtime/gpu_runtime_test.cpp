// GPU-host tests of the runtime: load and launch kernels, hits and misses
// across processes, and AOT bundles' ptxas cubins. Exits 77 (CTest: skipped)
// without a driver or GPU.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "add_one_ptx.h"
#include "packjit/core/bench_support.h"
#include "packjit/core/error.h"
#include "packjit/runtime/bundle.h"
#include "packjit/runtime/compiler_library.h"
#include "packjit/runtime/device.h"
#include "packjit/runtime/driver.h"
#include "packjit/runtime/launch.h"
#include "packjit/runtime/ptxas.h"
#include "test_support.h"

#include <cstring>
#include <iostream>
#include <sys/wait.h>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

namespace {

constexpr int kSkip = 77;
constexpr const char *kChildFlag = "--child-load";

KernelCacheOptions addOneOptions(const std::string &cacheDir, int *compiles) {
  KernelCacheOptions options;
  options.settings = settingsFor(cacheDir);
  options.bundlePaths = {};
  options.compile = [compiles](const KernelSpec &, std::string_view) {
    if (compiles)
      ++*compiles;
    return KernelImage{kAddOnePtx, kAddOneEntry, "", ""};
  };
  return options;
}

// add_one_ptx.h's kernel: testContract's parameters (%data, %n).
const KernelContract &addOneContract() {
  static const KernelContract contract = testContract("add_one");
  return contract;
}

KernelSpec addOneSpec(int ordinal) {
  const Device &dev = device(ordinal);
  return KernelBinding(addOneContract())
      .dtype("T", DType::Int64)
      .arch(dev.target.arch)
      .ptxVersion(dev.target.ptxVersion)
      .spec();
}

// Device buffer of int32 with RAII.
class DeviceInts {
public:
  explicit DeviceInts(const std::vector<int32_t> &values)
      : size_(values.size()) {
    const CudaDriver &driver = cudaDriver();
    PACKJIT_CUDA_CHECK(driver.cuMemAlloc(&ptr_, size_ * 4));
    PACKJIT_CUDA_CHECK(driver.cuMemcpyHtoD(ptr_, values.data(), size_ * 4));
  }
  ~DeviceInts() { cudaDriver().cuMemFree(ptr_); }
  std::vector<int32_t> read() const {
    std::vector<int32_t> values(size_);
    PACKJIT_CUDA_CHECK(
        cudaDriver().cuMemcpyDtoH(values.data(), ptr_, size_ * 4));
    return values;
  }
  CUdeviceptr &ptr() { return ptr_; }

private:
  CUdeviceptr ptr_ = 0;
  size_t size_;
};

// Child process: load add_one through a fresh cache; the exit code tells
// where it came from: 10 + origin, +5 when the cubin was reused.
int childLoad(const std::string &cacheDir) {
  try {
    ScopedContext scope(device(0).context);
    KernelCache cache(addOneOptions(cacheDir, nullptr));
    const Kernel &kernel = cache.get(addOneContract(), addOneSpec(0), 0);
    return 10 + static_cast<int>(kernel.origin) + (kernel.cubinReused ? 5 : 0);
  } catch (const std::exception &e) {
    std::cerr << "child: " << e.what() << "\n";
    return 1;
  }
}

// Runs add_one over 1000 zeros; whether each became 1.
bool addsOne(const Kernel &kernel) {
  DeviceInts data(std::vector<int32_t>(1000, 0));
  launch(kernel, {4}, {256}, nullptr,
         {KernelArg::pointer(data.ptr()), KernelArg::i32(1000)});
  PACKJIT_CUDA_CHECK(cudaDriver().cuCtxSynchronize());
  return data.read() == std::vector<int32_t>(1000, 1);
}

int runChild(const std::string &cacheDir) {
  const packjit::ChildRun child = packjit::runSelf({kChildFlag, cacheDir});
  REQUIRE(WIFEXITED(child.status));
  return WEXITSTATUS(child.status);
}

} // namespace

TEST_CASE("a cached kernel launches on the caller's stream and computes",
          "[gpu][runtime]") {
  TempDir dir;
  int compiles = 0;
  KernelCache cache(addOneOptions(dir.path(), &compiles));
  const CudaDriver &driver = cudaDriver();
  ScopedContext scope(device(0).context);
  CUstream stream = nullptr;
  PACKJIT_CUDA_CHECK(driver.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));

  std::vector<int32_t> values(100000);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<int32_t>(i * 7 - 3);
  DeviceInts data(values);
  unsigned n = static_cast<unsigned>(values.size());
  KernelFamily family(addOneContract(), &cache);
  const DType dtypes[] = {DType::Int64};
  for (int i = 0; i < 2; ++i) {
    const Kernel &kernel = family.get(0, dtypes, family.defaults());
    launch(kernel, {(n + 255) / 256}, {256}, stream,
           {KernelArg::pointer(data.ptr()),
            KernelArg::i32(static_cast<int32_t>(n))});
  }
  PACKJIT_CUDA_CHECK(driver.cuStreamSynchronize(stream));
  std::vector<int32_t> result = data.read();
  size_t wrong = 0;
  for (size_t i = 0; i < values.size(); ++i)
    wrong += result[i] != values[i] + 2;
  CHECK(wrong == 0);
  CHECK(compiles == 1);
  CHECK(cache.stats().cubinsMade == 1);
  PACKJIT_CUDA_CHECK(driver.cuStreamDestroy(stream));
}

TEST_CASE("hits and misses across processes", "[gpu][runtime]") {
  TempDir dir;
  CHECK(runChild(dir.path()) == 10 + static_cast<int>(ImageOrigin::Compiled));
  // The second process finds the entry and the driver's cubin on disk.
  CHECK(runChild(dir.path()) == 10 + static_cast<int>(ImageOrigin::Disk) + 5);
}

// [api-error]: the failing launch is the point; compute-sanitizer counts it
// as an error, so scripts/gpu-host.sh leaves this case out of its runs.
TEST_CASE("a bad launch names the kernel", "[gpu][runtime][api-error]") {
  TempDir dir;
  KernelCache cache(addOneOptions(dir.path(), nullptr));
  const Kernel &kernel = cache.get(addOneContract(), addOneSpec(0), 0);
  CHECK_THROWS_WITH(
      launch(kernel, {1}, {4096}, nullptr,
             {KernelArg::pointer(CUdeviceptr{0}), KernelArg::i32(0)}),
      Catch::Contains("cuLaunchKernel") && Catch::Contains("add_one"));
}

TEST_CASE("the compiler library's gather_rows loads and runs",
          "[gpu][compiler]") {
  std::string why;
  if (!compilerAvailable(&why)) {
#if PACKJIT_EXPECT_COMPILER
    FAIL("this build has a compiler library, but it does not load: " << why);
#else
    WARN("skipped: no compiler library in this build: " << why);
    return;
#endif
  }
  TempDir dir;
  ScopedContext scope(device(0).context);
  KernelCacheOptions options;
  options.settings = settingsFor(dir.path());
  options.bundlePaths = {};
  KernelCache cache(options);
  constexpr int64_t kRow = 4;
  // The ABI of kernels_src/gather_rows.mlir: one tensor (gridDim.y = 1),
  // LANES threads per row, plain words.
  KernelFamily gather("gather_rows", &cache);
  const DType dtypes[] = {DType::Int32};
  ConstexprValues values = gather.defaults();
  values.set(gather.slot("ROW"), kRow).set(gather.slot("LANES"), 4);
  const Kernel &kernel = gather.get(0, dtypes, values);
  CHECK(kernel.origin == ImageOrigin::Compiled);

  std::vector<int32_t> src(10 * kRow);
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = static_cast<int32_t>(i);
  std::vector<int64_t> indices{9, 0, 3, 3};
  std::vector<int32_t> dstInit(indices.size() * kRow, -1);
  DeviceInts srcBuf(src), dstBuf(dstInit);
  std::vector<int32_t> indexWords(indices.size() * 2);
  std::memcpy(indexWords.data(), indices.data(), indices.size() * 8);
  DeviceInts indexBuf(indexWords);
  int64_t nnz = static_cast<int64_t>(indices.size()), srcRows = 10,
          stride = kRow;
  const KernelArg unused = KernelArg::pointer(CUdeviceptr{0});
  launch(kernel, {1}, {256}, nullptr,
         {KernelArg::pointer(srcBuf.ptr()), KernelArg::pointer(dstBuf.ptr()),
          unused, unused, unused, unused, KernelArg::pointer(indexBuf.ptr()),
          KernelArg::i64(nnz), KernelArg::i64(srcRows), KernelArg::i64(stride),
          KernelArg::i64(stride), KernelArg::i64(stride)});
  PACKJIT_CUDA_CHECK(cudaDriver().cuCtxSynchronize());
  std::vector<int32_t> dst = dstBuf.read();
  for (size_t i = 0; i < indices.size(); ++i)
    for (int64_t c = 0; c < kRow; ++c)
      CHECK(dst[i * kRow + c] == src[indices[i] * kRow + c]);
}

// [api-error]: the refused cubin's failing load is part of the point.
TEST_CASE("a bundle's ptxas cubin loads without the PTX JIT; one the "
          "driver refuses falls back to it with a warning",
          "[gpu][runtime][aot][api-error]") {
  std::string why;
  std::optional<Ptxas> ptxas = findPtxas("", &why);
  if (!ptxas) {
    WARN("skipped: no ptxas to make the cubin with: " << why);
    return;
  }
  TempDir dir;
  ScopedContext scope(device(0).context);
  const KernelSpec spec = addOneSpec(0);
  KernelImage image{kAddOnePtx, kAddOneEntry, "", ""};
  image.cubin = ptxas->assemble(image.ptx, spec.arch, spec.fileStem());
  image.cubinTarget = ptxas->cubinTarget(spec.arch);
  writeBundle(dir.path() + "/good.pjb", {{spec.canonical(), image}});
  image.cubin = "not a cubin";
  writeBundle(dir.path() + "/refused.pjb", {{spec.canonical(), image}});

  int compiles = 0;
  KernelCacheOptions options = addOneOptions(dir.path() + "/cache", &compiles);
  options.bundlePaths = {dir.path() + "/good.pjb"};
  KernelCache cache(options);
  const Kernel &kernel = cache.get(addOneContract(), spec, 0);
  CHECK(kernel.origin == ImageOrigin::Bundle);
  CHECK(kernel.cubinReused);
  CHECK(cache.stats().cubinsMade == 0);
  CHECK(addsOne(kernel));

  options = addOneOptions(dir.path() + "/cache-2", &compiles);
  options.bundlePaths = {dir.path() + "/refused.pjb"};
  KernelCache refusing(options);
  std::string log;
  {
    CapturedStderr captured(dir.path() + "/stderr.txt");
    const Kernel &jitted = refusing.get(addOneContract(), spec, 0);
    log = captured.text();
    CHECK_FALSE(jitted.cubinReused);
    CHECK(addsOne(jitted));
  }
  CHECK_THAT(log, Catch::Contains("refused the cubin (" +
                                  ptxas->cubinTarget(spec.arch) + ") of " +
                                  spec.fileStem()) &&
                      Catch::Contains("JIT-compiling its PTX instead"));
  CHECK(refusing.stats().cubinsMade == 1);
  CHECK(compiles == 0);
}

int main(int argc, char **argv) {
  if (argc == 3 && std::strcmp(argv[1], kChildFlag) == 0)
    return childLoad(argv[2]);
  std::string why;
  if (!cudaDriverAvailable(&why)) {
    std::cerr << "gpu_runtime_tests: skipped: " << why << "\n";
    return kSkip;
  }
  try {
    if (deviceCount() == 0) {
      std::cerr << "gpu_runtime_tests: skipped: no CUDA device\n";
      return kSkip;
    }
  } catch (const Error &e) {
    std::cerr << "gpu_runtime_tests: skipped: " << e.what() << "\n";
    return kSkip;
  }
  return Catch::Session().run(argc, argv);
}
