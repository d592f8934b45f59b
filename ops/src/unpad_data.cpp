// get_unpad_data, get_seqlens_in_batch and get_unpad_data_padded: their
// schemas and their C++ API (packjit/ops.h). All three run one scan of the
// mask: cpu/unpad_data.cpp and cuda/unpad_data.cpp; checks and errors in
// unpad_data_checks.h; fake kernels in python/packjit/_fake.py.
#include "unpad_data.h"

#include "find_op.h"
#include "packjit/ops.h"
#include "sym_size.h"

#include <torch/library.h>

namespace packjit {

// The longest document is data-dependent: SymInt (sym_size.h).
TORCH_LIBRARY_FRAGMENT(packjit, m) {
  m.def("get_unpad_data(Tensor attention_mask, bool strict=True) -> "
        "(Tensor indices, Tensor cu_seqlens, " PACKJIT_SYMINT
        " max_seqlen_in_batch)");
  m.def("get_seqlens_in_batch(Tensor attention_mask, bool strict=True) -> "
        "Tensor");
  // Sync-free, fixed shapes (docs/gpu_unpad.md): indices [B*S] (-1 after nnz),
  // cu_seqlens [max_documents+1] (nnz after D), summary int64 [4] = (nnz, D,
  // max_seqlen, first violation's flat position or -1), all on the mask's
  // device.
  m.def("get_unpad_data_padded(Tensor attention_mask, bool strict=True, "
        "int max_documents=-1) -> (Tensor indices, Tensor cu_seqlens, Tensor "
        "summary)");
}

namespace ops {

std::tuple<at::Tensor, at::Tensor, SymSize>
getUnpadDataSym(const at::Tensor &attentionMask, bool strict) {
  static auto op = findOp<std::tuple<at::Tensor, at::Tensor, SymSize>(
      const at::Tensor &, bool)>("packjit::get_unpad_data");
  return op.call(attentionMask, strict);
}

} // namespace ops

std::tuple<at::Tensor, at::Tensor, int64_t>
get_unpad_data(const at::Tensor &attention_mask, bool strict) {
  auto [indices, cuSeqlens, longest] =
      ops::getUnpadDataSym(attention_mask, strict);
  return {indices, cuSeqlens, ops::concreteInt(longest)};
}

at::Tensor get_seqlens_in_batch(const at::Tensor &attention_mask, bool strict) {
  static auto op = ops::findOp<at::Tensor(const at::Tensor &, bool)>(
      "packjit::get_seqlens_in_batch");
  return op.call(attention_mask, strict);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor>
get_unpad_data_padded(const at::Tensor &attention_mask, bool strict,
                      int64_t max_documents) {
  static auto op = ops::findOp<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
      const at::Tensor &, bool, int64_t)>("packjit::get_unpad_data_padded");
  return op.call(attention_mask, strict, max_documents);
}

std::string get_unpad_data_kernel_spec(const at::Tensor &attention_mask,
                                       bool strict) {
#if PACKJIT_WITH_CUDA
  if (attention_mask.is_cuda() && attention_mask.dim() == 2)
    return ops::cuda::unpadDataKernelSpec(attention_mask, strict);
#endif
  (void)attention_mask;
  (void)strict;
  return "";
}

} // namespace packjit
