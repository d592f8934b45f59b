// Without libcuda.so.1 the runtime loads and GPU calls fail clearly.
#include "packjit/core/error.h"
#include "packjit/runtime/device.h"
#include "packjit/runtime/driver.h"
#include "packjit/runtime/kernel_cache.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

TEST_CASE("GPU calls without a CUDA driver fail with a clear error",
          "[runtime][nodriver]") {
  std::string why;
  if (cudaDriverAvailable(&why)) {
    WARN(
        "a CUDA driver is present: the no-driver behaviour is not tested here");
    return;
  }
  CHECK_THAT(why, Catch::Contains("no CUDA driver") &&
                      Catch::Contains("libcuda.so.1"));
  CHECK_THROWS_WITH(cudaDriver(), Catch::Contains("no CUDA driver"));
  CHECK_THROWS_WITH(deviceCount(), Catch::Contains("no CUDA driver"));
  CHECK_THROWS_WITH(device(0), Catch::Contains("no CUDA driver"));

  // A cache with the real driver loader: nothing is compiled before the
  // driver is found missing.
  TempDir dir;
  int compiles = 0;
  KernelCacheOptions options;
  options.settings = settingsFor(dir.path());
  options.bundlePaths = {};
  options.compile = [&](const KernelSpec &spec) {
    ++compiles;
    return fakeImage(spec);
  };
  KernelCache cache(options);
  CHECK_THROWS_WITH(cache.get(testContract(), testSpec(), 0),
                    Catch::Contains("no CUDA driver"));
  CHECK(compiles == 0);
}

TEST_CASE("driver errors name the call, the code and the place",
          "[runtime][nodriver]") {
  try {
    throwCudaError(CUDA_ERROR_INVALID_VALUE, "cuModuleLoadData(&module, image)",
                   "module_loader.cpp", 42);
    FAIL("throwCudaError returned");
  } catch (const Error &e) {
    std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("cuModuleLoadData(&module, image)") &&
                            Catch::Contains("(1)") &&
                            Catch::Contains("module_loader.cpp:42"));
    if (cudaDriverAvailable())
      CHECK_THAT(message, Catch::Contains("CUDA_ERROR_INVALID_VALUE"));
  }
}
