// cu_seqlens from position ids on the CPU (transformers'
// DataCollatorWithFlattening convention).
#pragma once

#include <ATen/Tensor.h>

#include <tuple>

namespace packjit::ops::cpu {

std::tuple<at::Tensor, int64_t>
cuSeqlensFromPositionIds(const at::Tensor &positionIds, bool strict);

} // namespace packjit::ops::cpu
