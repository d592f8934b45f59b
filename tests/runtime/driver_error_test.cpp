// Driver errors carry the call, the code, its name and the place.
#include "packjit/core/error.h"
#include "packjit/runtime/driver.h"

#include <catch2/catch.hpp>

using namespace packjit;
using namespace packjit::runtime;

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
