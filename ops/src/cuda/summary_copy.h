// The one small device-to-host copy of a scan's summary: into this thread's
// pinned buffer on PyTorch's current stream, then one stream sync.
#pragma once

#include <ATen/Tensor.h>

#include <array>
#include <cstdint>

namespace packjit::ops::cuda {

constexpr int64_t kMaxSummaryFields = 8;
using HostSummary = std::array<int64_t, kMaxSummaryFields>;

// The first `summary.numel()` (<= 8) int64 values of the contiguous device
// tensor `summary`, after everything enqueued on the current stream.
HostSummary readSummary(const at::Tensor &summary, const char *op);

} // namespace packjit::ops::cuda
