#include "packjit/runtime/driver.h"

#include "packjit/core/error.h"

#include <dlfcn.h>
#include <mutex>

namespace packjit::runtime {
namespace {

// Two steps so that cuda.h's renames (cuLinkCreate -> cuLinkCreate_v2)
// happen before the name becomes the string given to dlsym.
#define PACKJIT_STRINGIFY_EXPANDED(name) PACKJIT_STRINGIFY(name)
#define PACKJIT_STRINGIFY(name) #name

struct DriverState {
  CudaDriver driver;
  std::string error; // empty when loaded
};

DriverState loadDriver() {
  DriverState state;
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    state.error =
        std::string("no CUDA driver: dlopen(\"libcuda.so.1\") failed: ") +
        (why ? why : "unknown error");
    return state;
  }
  // Kept loaded for the life of the process: modules and contexts outlive
  // any one caller.
#define PACKJIT_CUDA_SYMBOL(name)                                              \
  state.driver.name = reinterpret_cast<decltype(&::name)>(                     \
      dlsym(library, PACKJIT_STRINGIFY_EXPANDED(name)));                       \
  if (!state.driver.name) {                                                    \
    state.error = "no usable CUDA driver: libcuda.so.1 lacks " +               \
                  std::string(PACKJIT_STRINGIFY_EXPANDED(name)) +              \
                  " (driver too old?)";                                        \
    return state;                                                              \
  }
#include "packjit/runtime/cuda_symbol_table.h"
#undef PACKJIT_CUDA_SYMBOL
  CUresult result = state.driver.cuInit(0);
  if (result != CUDA_SUCCESS) {
    const char *name = nullptr;
    const char *text = nullptr;
    state.driver.cuGetErrorName(result, &name);
    state.driver.cuGetErrorString(result, &text);
    state.error = "no usable CUDA driver: cuInit(0) failed with " +
                  std::string(name ? name : "?") + " (" +
                  std::to_string(static_cast<int>(result)) +
                  "): " + (text ? text : "unknown error");
  }
  return state;
}

const DriverState &driverState() {
  static const DriverState state = loadDriver();
  return state;
}

} // namespace

const CudaDriver &cudaDriver() {
  const DriverState &state = driverState();
  if (!state.error.empty())
    throw Error(state.error);
  return state.driver;
}

bool cudaDriverAvailable(std::string *why) {
  const DriverState &state = driverState();
  if (why)
    *why = state.error;
  return state.error.empty();
}

void throwCudaError(CUresult result, const char *call, const char *file,
                    int line) {
  const char *name = nullptr;
  const char *text = nullptr;
  const DriverState &state = driverState();
  if (state.error.empty()) {
    state.driver.cuGetErrorName(result, &name);
    state.driver.cuGetErrorString(result, &text);
  }
  throw Error(std::string(call) + " failed with " +
              (name ? name : "CUDA error") + " (" +
              std::to_string(static_cast<int>(result)) +
              "): " + (text ? text : "unknown error") + " [" + file + ":" +
              std::to_string(line) + "]");
}

} // namespace packjit::runtime
