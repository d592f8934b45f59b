// A small device-to-host copy of a kernel's summary: into this thread's
// pinned buffer on PyTorch's current stream, then one stream sync. Used by
// cu_seqlens_from_position_ids; the mask scan posts its summary to a
// HostMailbox instead (host_mailbox.h), which saves the copy and the sync.
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
