// Launching a cached kernel on the caller's stream (the op library passes
// PyTorch's current stream).
#pragma once

#include "packjit/runtime/kernel_cache.h"

namespace packjit::runtime {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// cuLaunchKernel in the kernel's context; `args` points at each argument,
// as cuLaunchKernel's kernelParams. Throws packjit::Error naming the kernel.
void launch(const Kernel &kernel, Dim3 grid, Dim3 block, CUstream stream,
            void **args, unsigned sharedMemoryBytes = 0);

} // namespace packjit::runtime
