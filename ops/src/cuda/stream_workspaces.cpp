#include "stream_workspaces.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>

#include <algorithm>
#include <exception>
#include <thread>

namespace packjit::ops::cuda {
namespace {

// `words` int64 words on `stream` from PyTorch's caching allocator, always
// from its general pool: the allocation is made on a short-lived thread of
// its own, since PyTorch routes every allocation of a thread to a private
// pool while that thread warms up a cudagraph tree (torch.compile's
// "reduce-overhead") or is inside torch.cuda.use_mem_pool. A workspace that
// outlives the call must not sit in such a pool: cudagraph trees rewind a
// pool to a checkpoint and would hand its memory to other tensors. Not
// zeroed.
at::Tensor allocateInGeneralPool(const at::Tensor &like,
                                 c10::cuda::CUDAStream stream, int64_t words) {
  at::Tensor out;
  std::exception_ptr error;
  std::thread([&] {
    try {
      c10::cuda::CUDAStreamGuard guard(stream); // device and stream
      out = at::empty({words}, like.options().dtype(at::kLong));
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error)
    std::rethrow_exception(error);
  return out;
}

} // namespace

at::Tensor StreamWorkspaces::get(const at::Tensor &like,
                                 c10::cuda::CUDAStream stream, int64_t words) {
  std::lock_guard<std::mutex> lock(mutex_);
  at::Tensor &workspace = workspaces_[{like.device().index(), stream.stream()}];
  if (workspace.defined() && workspace.numel() >= words)
    return workspace;
  const int64_t grown =
      workspace.defined() ? std::max(words, 2 * workspace.numel()) : words;
  at::Tensor fresh = allocateInGeneralPool(like, stream, grown);
  fresh.zero_(); // on the current stream, which is `stream`
  workspace = fresh;
  return workspace;
}

} // namespace packjit::ops::cuda
