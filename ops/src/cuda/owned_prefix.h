// Results that own (nearly) only their bytes. The CUDA ops write into
// upper-bound buffers (N indices, N+1 boundaries) because the exact sizes
// are known only once the kernel has run; a view of such a buffer would
// keep all of it alive (and torch.save would write all of it).
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace packjit::ops::cuda {

// The first `count` elements of the 1-D CUDA `buffer`: the buffer itself (a
// view) when the rest of it is under 1 MiB or under 1/8 of it, else a copy
// of just them (one driver copy on the current stream, no PyTorch op).
// A result thus keeps at most max(1 MiB, 1/7 of its own size) of extra
// memory alive, small calls pay nothing, and a copy is only ever made of
// the smaller part of a mostly empty buffer.
at::Tensor ownedPrefix(const at::Tensor &buffer, int64_t count);

} // namespace packjit::ops::cuda
