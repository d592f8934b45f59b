// is_indexed_packed_mask's device-specific fast path. The op is a composite
// (one function for every device, registered with its schema); a library
// built with the CUDA ops installs its kernel here at load time
// (cuda/is_indexed_packed_mask.cpp), and the composite calls it for a
// plain CUDA tensor.
#pragma once

#include <ATen/Tensor.h>

namespace packjit::ops {

// Whether any value of a non-empty 2-D integer `mask` is greater than 1.
using AnyAboveOne = bool (*)(const at::Tensor &mask);

void installCudaAnyAboveOne(AnyAboveOne kernel);

} // namespace packjit::ops
