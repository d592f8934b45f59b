// The one small device-to-host copy of a scan's summary: into this thread's
// pinned buffer on PyTorch's current stream, then one stream sync.
#pragma once

#include <ATen/Tensor.h>

#include <array>
#include <cstdint>

namespace packjit::ops::cuda {

constexpr int64_t kMaxSummaryFields = 8;
using HostSummary = std::array<int64_t, kMaxSummaryFields>;

// The first `count` (<= 8) int64 values at `summary` on `like`'s device,
// after everything enqueued on the current stream.
HostSummary readSummary(const int64_t *summary, int64_t count,
                        const at::Tensor &like, const char *op);

} // namespace packjit::ops::cuda
