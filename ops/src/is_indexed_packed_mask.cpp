// is_indexed_packed_mask: its schema, its one kernel and its C++ API
// (packjit/ops.h). The kernel is device-generic (a reduction and one scalar
// read on any device), so it is registered with the schema.
#include "find_op.h"
#include "packjit/ops.h"

#include <ATen/ATen.h>
#include <torch/library.h>

namespace packjit {
namespace {

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

TORCH_LIBRARY_FRAGMENT(packjit, m) {
  m.def("is_indexed_packed_mask(Tensor? attention_mask) -> bool",
        &isIndexedPackedMask);
}

bool is_indexed_packed_mask(const c10::optional<at::Tensor> &attention_mask) {
  static auto op = ops::findOp<bool(const c10::optional<at::Tensor> &)>(
      "packjit::is_indexed_packed_mask");
  return op.call(attention_mask);
}

} // namespace packjit
