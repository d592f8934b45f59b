// get_unpad_data, get_seqlens_in_batch and get_unpad_data_padded: what the
// op's files share besides packjit/ops.h.
#pragma once

#include "sym_size.h"

#include <ATen/Tensor.h>

#include <string>
#include <tuple>

namespace packjit::ops {

// get_unpad_data through the dispatcher with its size as SymSize, for the
// kernels that run while torch.compile traces (composites); packjit/ops.h's
// API reads an integer instead.
std::tuple<at::Tensor, at::Tensor, SymSize>
getUnpadDataSym(const at::Tensor &attentionMask, bool strict);

#if PACKJIT_WITH_CUDA
namespace cuda {
// The KernelSpec (canonical text) that get_unpad_data launches for `mask`, a
// 2-D CUDA tensor (cuda/unpad_data.cpp).
std::string unpadDataKernelSpec(const at::Tensor &mask, bool strict);
} // namespace cuda
#endif

} // namespace packjit::ops
