// packing_metadata and packing_metadata_padded: their schemas and their C++
// API (packjit/ops.h). Kernels: cpu/packing_metadata.cpp and
// cuda/packing_metadata.cpp; inputs and strict checks in
// packing_metadata_checks.h; fake kernels in python/packjit/_fake.py.
#include "find_op.h"
#include "packing_metadata_checks.h"
#include "packjit/ops.h"
#include "sym_size.h"

#include <torch/library.h>

namespace packjit {

// max_seqlen is data-dependent: SymInt (sym_size.h).
TORCH_LIBRARY_FRAGMENT(packjit, m) {
  m.def("packing_metadata(Tensor? attention_mask, Tensor? position_ids, "
        "int pad_to=1, bool strict=True) -> (Tensor indices, Tensor "
        "cu_seqlens, " PACKJIT_SYMINT " max_seqlen, Tensor seqlens, Tensor "
        "seq_idx, Tensor position_ids, Tensor cu_seqlens_padded)");
  // Sync-free, fixed shapes (packjit/ops.h: PackingMetadataPadded).
  m.def("packing_metadata_padded(Tensor? attention_mask, Tensor? "
        "position_ids, int max_documents=-1, int pad_to=1, bool strict=True) "
        "-> (Tensor indices, Tensor cu_seqlens, Tensor seqlens, Tensor "
        "seq_idx, Tensor position_ids, Tensor cu_seqlens_padded, Tensor "
        "summary)");
}

PackingMetadata
packing_metadata(const c10::optional<at::Tensor> &attention_mask,
                 const c10::optional<at::Tensor> &position_ids, int64_t pad_to,
                 bool strict) {
  using Result = std::tuple<at::Tensor, at::Tensor, ops::SymSize, at::Tensor,
                            at::Tensor, at::Tensor, at::Tensor>;
  static auto op =
      ops::findOp<Result(const c10::optional<at::Tensor> &,
                         const c10::optional<at::Tensor> &, int64_t, bool)>(
          "packjit::packing_metadata");
  // Before the dispatcher, whose own error for two absent tensors names
  // neither.
  ops::packingInputs(attention_mask, position_ids, pad_to,
                     "packjit.packing_metadata");
  auto [indices, cuSeqlens, longest, seqlens, seqIdx, positions, cuPadded] =
      op.call(attention_mask, position_ids, pad_to, strict);
  return {indices,   cuSeqlens, ops::concreteInt(longest), seqlens, seqIdx,
          positions, cuPadded};
}

PackingMetadataPadded
packing_metadata_padded(const c10::optional<at::Tensor> &attention_mask,
                        const c10::optional<at::Tensor> &position_ids,
                        int64_t max_documents, int64_t pad_to, bool strict) {
  using Result = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor,
                            at::Tensor, at::Tensor, at::Tensor>;
  static auto op = ops::findOp<Result(
      const c10::optional<at::Tensor> &, const c10::optional<at::Tensor> &,
      int64_t, int64_t, bool)>("packjit::packing_metadata_padded");
  ops::packingInputs(attention_mask, position_ids, pad_to,
                     "packjit.packing_metadata_padded");
  auto [indices, cuSeqlens, seqlens, seqIdx, positions, cuPadded, summary] =
      op.call(attention_mask, position_ids, max_documents, pad_to, strict);
  return {indices, cuSeqlens, seqlens, seqIdx, positions, cuPadded, summary};
}

} // namespace packjit
