// unpad_input, pad_input and unpad_inputs: what the ops' files share besides
// packjit/ops.h.
#pragma once

#include "sym_size.h"

#include <ATen/Tensor.h>

namespace packjit::ops {

// pad_input through the dispatcher with its sizes as SymSize, for the kernels
// that run while torch.compile traces (autograd); packjit/ops.h's API passes
// integers instead.
at::Tensor padInputSym(const at::Tensor &x, const at::Tensor &indices,
                       SymSize batch, SymSize seqlen);

} // namespace packjit::ops
