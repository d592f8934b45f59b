// Without libcuda.so.1 the runtime loads and GPU calls fail clearly. Its own
// executable: on a host with a driver there is nothing to test, and it exits
// 77 so that CTest reports it skipped instead of passed.
#define CATCH_CONFIG_RUNNER
#include "packjit/core/error.h"
#include "packjit/runtime/device.h"
#include "packjit/runtime/driver.h"
#include "packjit/runtime/kernel_cache.h"
#include "packjit/runtime/launch.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

TEST_CASE("GPU calls without a CUDA driver fail with a clear error",
          "[runtime][nodriver]") {
  std::string why;
  REQUIRE_FALSE(cudaDriverAvailable(&why));
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
  options.compile = [&](const KernelSpec &spec, std::string_view) {
    ++compiles;
    return fakeImage(spec);
  };
  KernelCache cache(options);
  CHECK_THROWS_WITH(cache.get(testContract(), testSpec(), 0),
                    Catch::Contains("no CUDA driver"));
  CHECK(compiles == 0);
}

TEST_CASE("matching arguments reach the driver", "[runtime][launch]") {
  const Kernel kernel = unloadedKernel();
  int data = 0;
  CHECK_THROWS_WITH(launch(kernel, {1}, {256}, nullptr,
                           {KernelArg::pointer(&data), KernelArg::i32(4)}),
                    Catch::Contains("no CUDA driver"));
}

int main(int argc, char **argv) {
  if (cudaDriverAvailable()) {
    std::puts("SKIP: a CUDA driver is present; the no-driver behaviour needs "
              "a host without libcuda.so.1");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
