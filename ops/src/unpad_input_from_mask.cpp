// unpad_input_from_mask: flash-attention's bert_padding.unpad_input on an
// (indexed) attention mask, from one get_unpad_data. Its schema, its one
// kernel and its C++ API (packjit/ops.h). The kernel is a composite of
// get_unpad_data and unpad_input, for every device; autograd comes from
// unpad_input's.
#include "find_op.h"
#include "packjit/ops.h"
#include "sym_size.h"
#include "unpad_data.h"

#include <ATen/ATen.h>
#include <torch/library.h>

namespace packjit {

// The longest document is data-dependent: SymInt (sym_size.h).
TORCH_LIBRARY_FRAGMENT(packjit, m) {
  m.def("unpad_input_from_mask(Tensor hidden, Tensor attention_mask, "
        "bool strict=True) -> (Tensor hidden_unpad, Tensor indices, "
        "Tensor cu_seqlens, " PACKJIT_SYMINT
        " max_seqlen_in_batch, Tensor used_seqlens)");
}

namespace ops {
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

} // namespace ops

std::tuple<at::Tensor, at::Tensor, at::Tensor, int64_t, at::Tensor>
unpad_input_from_mask(const at::Tensor &hidden,
                      const at::Tensor &attention_mask, bool strict) {
  static auto op = ops::findOp<
      std::tuple<at::Tensor, at::Tensor, at::Tensor, ops::SymSize, at::Tensor>(
          const at::Tensor &, const at::Tensor &, bool)>(
      "packjit::unpad_input_from_mask");
  auto [unpadded, indices, cuSeqlens, longest, used] =
      op.call(hidden, attention_mask, strict);
  return {unpadded, indices, cuSeqlens, ops::concreteInt(longest), used};
}

} // namespace packjit
