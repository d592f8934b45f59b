// Fresh CPU output buffers of several MB: their first touch, page by page, can
// cost more than the scan that fills them (18 ms for 32 MB on a VM here,
// against 2.4 ms for the scan). So large outputs come from transparent huge
// pages, and a few recently freed blocks are kept for the next call.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace packjit::ops::cpu {

// An uninitialized 1-D CPU tensor; small sizes come from at::empty.
at::Tensor emptyLarge(int64_t numel, at::ScalarType dtype);

} // namespace packjit::ops::cpu
