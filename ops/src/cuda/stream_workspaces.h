// Scratch memory that a kernel keeps between launches (tile statuses,
// counters): one buffer per (device, stream), reused by every eager launch on
// that stream, grown when a launch needs more. Each kernel owns its own
// StreamWorkspaces (their layouts differ); a launch captured into a CUDA
// graph never uses one (it allocates its own inside the graph).
#pragma once

#include <ATen/Tensor.h>
#include <c10/cuda/CUDAStream.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

namespace packjit::ops::cuda {

class StreamWorkspaces {
public:
  // The workspace of `stream` (PyTorch's current stream on `like`'s device,
  // not being captured), at least `words` int64 words. A new one is zeroed
  // on `stream` before it is returned; the kernels leave theirs ready for
  // their next launch. The caller keeps the returned tensor until its launch
  // is enqueued: another thread sharing `stream` may grow the workspace
  // meanwhile, and the one it replaces is then freed only after that launch
  // (the caching allocator orders reuse on the stream the block was
  // allocated on, which is `stream`).
  at::Tensor get(const at::Tensor &like, c10::cuda::CUDAStream stream,
                 int64_t words);

private:
  std::mutex mutex_;
  std::map<std::pair<int, cudaStream_t>, at::Tensor> workspaces_;
};

} // namespace packjit::ops::cuda
