#include "packjit/runtime/launch.h"

#include "packjit/core/error.h"
#include "packjit/runtime/driver.h"

namespace packjit::runtime {

void launch(const Kernel &kernel, Dim3 grid, Dim3 block, CUstream stream,
            void **args, unsigned sharedMemoryBytes) {
  const CudaDriver &driver = cudaDriver();
  // The caller (PyTorch) normally has the primary context current already;
  // then this costs one cuCtxGetCurrent.
  CUcontext current = nullptr;
  driver.cuCtxGetCurrent(&current);
  bool pushed = false;
  if (current != kernel.context) {
    PACKJIT_CUDA_CHECK(driver.cuCtxPushCurrent(kernel.context));
    pushed = true;
  }
  CUresult result = driver.cuLaunchKernel(
      kernel.function, grid.x, grid.y, grid.z, block.x, block.y, block.z,
      sharedMemoryBytes, stream, args, nullptr);
  if (pushed) {
    CUcontext popped = nullptr;
    driver.cuCtxPopCurrent(&popped);
  }
  if (result != CUDA_SUCCESS) {
    try {
      throwCudaError(result, "cuLaunchKernel", __FILE__, __LINE__);
    } catch (const Error &e) {
      throw Error(std::string(e.what()) + " launching '" +
                  kernel.spec.canonical() + "'");
    }
  }
}

} // namespace packjit::runtime
