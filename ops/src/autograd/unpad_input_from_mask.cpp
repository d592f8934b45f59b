// unpad_input_from_mask: flash-attention's bert_padding.unpad_input on an
// (indexed) attention mask, from one get_unpad_data. Composite: autograd
// comes from unpad_input's.
#include "../sym_size.h"
#include "packjit/ops.h"

#include <ATen/ATen.h>
#include <torch/library.h>

namespace packjit::ops {
namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor, SymSize, at::Tensor>
unpadInputFromMask(const at::Tensor &hidden, const at::Tensor &attentionMask,
                   bool strict) {
  constexpr const char *op = "packjit.unpad_input_from_mask";
  TORCH_CHECK(hidden.dim() >= 2, op,
              ": hidden should be [batch, seqlen, ...] (at least 2-D), got ",
              hidden.dim(), "-D");
  TORCH_CHECK(attentionMask.dim() == 2 &&
                  symSize(attentionMask, 0) == symSize(hidden, 0) &&
                  symSize(attentionMask, 1) == symSize(hidden, 1),
              op, ": attention_mask should be [batch, seqlen] = [",
              symSize(hidden, 0), ", ", symSize(hidden, 1),
              "] like hidden's first two dims, got ", symSizes(attentionMask));
  auto [indices, cuSeqlens, maxSeqlen] = getUnpadDataSym(attentionMask, strict);
  // Tokens per row, as flash-attention's used_seqlens_in_batch (int32).
  at::Tensor usedSeqlens = attentionMask.ne(0).sum({-1}, false, at::kInt);
  return {packjit::unpad_input(hidden, indices), indices, cuSeqlens, maxSeqlen,
          usedSeqlens};
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CompositeImplicitAutograd, m) {
  m.impl("unpad_input_from_mask", &unpadInputFromMask);
}

} // namespace packjit::ops
