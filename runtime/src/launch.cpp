#include "packjit/runtime/launch.h"

#include "packjit/core/error.h"
#include "packjit/runtime/driver.h"

namespace packjit::runtime {
namespace {

// cuLaunchKernel's kernelParams live on the stack.
constexpr size_t kMaxLaunchArgs = 64;

[[noreturn]] void throwArgumentMismatch(const Kernel &kernel,
                                        std::span<const KernelArg> args) {
  std::string given;
  for (const KernelArg &arg : args)
    given +=
        (given.empty() ? "" : ", ") + std::string(paramKindName(arg.kind()));
  std::string expected;
  for (const KernelParam &param : kernel.params)
    expected += (expected.empty() ? "%" : ", %") + param.name + ": " +
                std::string(paramKindName(param.kind));
  std::string why;
  if (args.size() > kMaxLaunchArgs) {
    why = std::to_string(args.size()) + " arguments, more than the " +
          std::to_string(kMaxLaunchArgs) + " a launch can pass";
  } else if (args.size() != kernel.params.size()) {
    why = std::to_string(args.size()) + " arguments for " +
          std::to_string(kernel.params.size()) + " parameters";
  } else {
    for (size_t i = 0; i < args.size() && why.empty(); ++i)
      if (args[i].kind() != kernel.params[i].kind)
        why = "argument " + std::to_string(i + 1) + " (%" +
              kernel.params[i].name + ") is " +
              std::string(paramKindName(kernel.params[i].kind)) + ", got " +
              std::string(paramKindName(args[i].kind()));
  }
  throw Error("launch of '" + kernel.spec.kernel + "': " + why +
              "; it takes (" + expected + "), got (" + given + ")");
}

} // namespace

void launch(const Kernel &kernel, Dim3 grid, Dim3 block, CUstream stream,
            std::span<const KernelArg> args, unsigned sharedMemoryBytes) {
  void *params[kMaxLaunchArgs];
  bool matches =
      args.size() == kernel.params.size() && args.size() <= kMaxLaunchArgs;
  for (size_t i = 0; matches && i < args.size(); ++i) {
    matches = args[i].kind() == kernel.params[i].kind;
    params[i] = const_cast<void *>(args[i].data());
  }
  if (!matches)
    throwArgumentMismatch(kernel, args);

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
      sharedMemoryBytes, stream, params, nullptr);
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
