// Results that own (nearly) only their bytes. The GPU ops write into
// upper-bound buffers (N indices, N+1 boundaries) because the exact sizes
// are known only once the kernel has run; a view of such a buffer would
// keep all of it alive (and torch.save would write all of it).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace packjit::ops {

// The first `count` elements of the 1-D `buffer`: the buffer itself (a
// view) when they fill at least 7/8 of it, else a copy of just them, made on
// the current stream. So a result owns at most 1/7 more bytes than it holds,
// and a copy is only ever made of the smaller part: a nearly full buffer
// (dense masks) costs nothing, a mostly empty one copies little.
inline at::Tensor ownedPrefix(const at::Tensor &buffer, int64_t count) {
  at::Tensor prefix = buffer.narrow(0, 0, count);
  if (count * 8 >= buffer.numel() * 7)
    return prefix;
  return prefix.clone();
}

} // namespace packjit::ops
