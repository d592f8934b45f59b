// What every CUDA kernel of the op library needs: the input's device made
// current, PyTorch's current stream as a driver CUstream, errors of the
// runtime turned into c10 errors with the op's name, and whether that stream
// is being captured into a CUDA graph.
#pragma once

#include "packjit/core/dtype.h"
#include "packjit/core/error.h"
#include "packjit/runtime/driver.h"

#include <ATen/Tensor.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/Exception.h>
#include <cuda.h>

#include <cstdint>

namespace packjit::ops::cuda {

// `tensor` as the scan kernels read it, whole 16-byte words: itself when
// contiguous and 16-byte aligned, else a contiguous copy (a fresh
// allocation is aligned).
inline at::Tensor contiguousAligned(const at::Tensor &tensor) {
  const bool aligned = reinterpret_cast<uintptr_t>(tensor.data_ptr()) % 16 == 0;
  if (tensor.is_contiguous() && aligned)
    return tensor;
  return tensor.clone(at::MemoryFormat::Contiguous);
}

// The kernels' dtype of an attention mask (checked by the op already).
inline DType maskDType(at::ScalarType type) {
  switch (type) {
  case at::kLong:
    return DType::Int64;
  case at::kInt:
    return DType::Int32;
  case at::kShort:
    return DType::Int16;
  case at::kChar:
    return DType::Int8;
  case at::kByte:
    return DType::UInt8;
  case at::kBool:
    return DType::Bool;
  default:
    TORCH_CHECK(false, "packjit: unexpected mask dtype ", type);
  }
}

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

// Whether `stream` is being captured into a CUDA graph (torch.cuda.graph,
// make_graphed_callables, torch.compile's cudagraph trees, at::cuda::CUDAGraph:
// all capture PyTorch's current stream). An invalidated capture counts too.
// Throws packjit::Error when the driver cannot tell (the legacy default
// stream while a blocking stream is captured).
inline bool streamIsCapturing(CUstream stream) {
  CUstreamCaptureStatus status = CU_STREAM_CAPTURE_STATUS_NONE;
  PACKJIT_CUDA_CHECK(
      runtime::cudaDriver().cuStreamIsCapturing(stream, &status));
  return status != CU_STREAM_CAPTURE_STATUS_NONE;
}

// For the ops that wait on the host for a result (a size, a violation to
// raise): raises when PyTorch's current stream on `like`'s device is being
// captured, naming `op` and saying `instead`. Called before anything is
// enqueued, so the capture itself stays valid and ends cleanly.
inline void checkNotCapturing(const at::Tensor &like, const char *op,
                              const char *instead) {
  const bool capturing = withRuntimeErrors(
      op, [&] { return streamIsCapturing(currentStream(like)); });
  TORCH_CHECK(!capturing, op,
              " cannot be captured in a CUDA graph: it waits on the host for "
              "its results. ",
              instead);
}

} // namespace packjit::ops::cuda
