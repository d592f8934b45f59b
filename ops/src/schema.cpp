// The packjit operator library: every schema, defined once. Device kernels
// register themselves in cpu/ and cuda/.
#include "mask_checks.h"
#include "sym_size.h"

#include <ATen/ATen.h>
#include <torch/library.h>

namespace packjit::ops {
namespace {

// Device-generic: a reduction and one scalar read on any device.
bool isIndexedPackedMask(const c10::optional<at::Tensor> &mask) {
  if (!mask.has_value() || !mask->defined() || mask->dim() != 2 ||
      mask->scalar_type() == at::kBool)
    return false;
  TORCH_CHECK(!at::isFloatingType(mask->scalar_type()) &&
                  !at::isComplexType(mask->scalar_type()),
              "packjit.is_indexed_packed_mask: attention_mask should be an "
              "integer or bool tensor, got ",
              mask->scalar_type());
  return mask->numel() != 0 && (*mask > 1).any().item<bool>();
}

} // namespace

// Sizes that depend on the data are SymInt (torch.compile's unbacked sizes;
// sym_size.h); the Python package registers the fake kernels.
TORCH_LIBRARY(packjit, m) {
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
  m.def(
      "cu_seqlens_from_position_ids(Tensor position_ids, bool strict=True) -> "
      "(Tensor cu_seqlens, " PACKJIT_SYMINT " max_seqlen)");
  m.def("is_indexed_packed_mask(Tensor? attention_mask) -> bool",
        &isIndexedPackedMask);
  // Gather / scatter of rows (docs/padding.md); autograd in autograd/.
  m.def("unpad_input(Tensor hidden, Tensor indices) -> Tensor");
  m.def("pad_input(Tensor x, Tensor indices, " PACKJIT_SYMINT
        " batch, " PACKJIT_SYMINT " seqlen) -> Tensor");
  m.def("unpad_inputs(Tensor[] hidden, Tensor indices) -> Tensor[]");
  m.def("unpad_input_from_mask(Tensor hidden, Tensor attention_mask, "
        "bool strict=True) -> (Tensor hidden_unpad, Tensor indices, "
        "Tensor cu_seqlens, " PACKJIT_SYMINT
        " max_seqlen_in_batch, Tensor used_seqlens)");
}

} // namespace packjit::ops
