// cu_seqlens from position ids on the CPU (transformers'
// DataCollatorWithFlattening convention).
#pragma once

#include "../sym_size.h"
#include <ATen/Tensor.h>

#include <tuple>

namespace packjit::ops::cpu {

// The longest sequence as a SymSize: the schema's SymInt (sym_size.h).
std::tuple<at::Tensor, SymSize>
cuSeqlensFromPositionIds(const at::Tensor &positionIds, bool strict);

} // namespace packjit::ops::cpu
