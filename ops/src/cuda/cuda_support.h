// What every CUDA kernel of the op library needs: the input's device made
// current, PyTorch's current stream as a driver CUstream, and errors of the
// runtime turned into c10 errors with the op's name.
#pragma once

#include "packjit/core/error.h"
#include "packjit/runtime/launch.h"

#include <ATen/Tensor.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

namespace packjit::ops::cuda {

// PyTorch's current stream on `tensor`'s device; the runtime API and the
// CUDA runtime API share the stream type (CUstream_st *).
inline CUstream currentStream(const at::Tensor &tensor) {
  return reinterpret_cast<CUstream>(
      c10::cuda::getCurrentCUDAStream(tensor.device().index()).stream());
}

// Runs fn(), turning a packjit::Error (a missing compiler, a driver failure)
// into a c10::Error that names `op`.
template <typename Fn>
decltype(auto) withRuntimeErrors(const char *op, Fn &&fn) {
  try {
    return fn();
  } catch (const packjit::Error &error) {
    TORCH_CHECK(false, op, ": ", error.what());
  }
}

} // namespace packjit::ops::cuda
