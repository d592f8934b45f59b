// is_indexed_packed_mask: its schema, its one kernel and its C++ API
// (packjit/ops.h). The kernel is device-generic (a reduction and one scalar
// read on any device), so it is registered with the schema; on CUDA it
// runs the mask_any_gt1 kernel when the library has it
// (is_indexed_packed_mask.h).
#include "is_indexed_packed_mask.h"

#include "find_op.h"
#include "packjit/ops.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <atomic>

namespace packjit {
namespace {

std::atomic<ops::AnyAboveOne> cudaAnyAboveOne{nullptr};

bool isIndexedPackedMask(const c10::optional<at::Tensor> &mask) {
  if (!mask.has_value() || !mask->defined() || mask->dim() != 2 ||
      mask->scalar_type() == at::kBool)
    return false;
  TORCH_CHECK(!at::isFloatingType(mask->scalar_type()) &&
                  !at::isComplexType(mask->scalar_type()),
              "packjit.is_indexed_packed_mask: attention_mask should be an "
              "integer or bool tensor, got ",
              mask->scalar_type());
  if (mask->numel() == 0)
    return false;
  // Fake, functional and subclass tensors (torch.compile's tracing) take
  // the generic path, which they can trace.
  const ops::AnyAboveOne cuda = cudaAnyAboveOne.load();
  const bool plain = !mask->key_set().has(c10::DispatchKey::Python) &&
                     !mask->key_set().has(c10::DispatchKey::Functionalize);
  if (cuda && plain && mask->is_cuda())
    return cuda(*mask);
  return (*mask > 1).any().item<bool>();
}

} // namespace

namespace ops {
void installCudaAnyAboveOne(AnyAboveOne kernel) { cudaAnyAboveOne = kernel; }
} // namespace ops

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
