// cu_seqlens_from_position_ids: its schema and its C++ API (packjit/ops.h).
// Kernels: cpu/cu_seqlens_from_position_ids.cpp and
// cuda/cu_seqlens_from_position_ids.cpp; checks and errors in
// cu_seqlens_from_position_ids_checks.h; fake kernel in
// python/packjit/_fake.py.
#include "find_op.h"
#include "packjit/ops.h"
#include "sym_size.h"

#include <torch/library.h>

namespace packjit {

// The longest sequence is data-dependent: SymInt (sym_size.h).
TORCH_LIBRARY_FRAGMENT(packjit, m) {
  m.def(
      "cu_seqlens_from_position_ids(Tensor position_ids, bool strict=True) -> "
      "(Tensor cu_seqlens, " PACKJIT_SYMINT " max_seqlen)");
  // Sync-free, fixed shapes: cu_seqlens [max_documents+1] (N after D),
  // summary int64 [4] = (N, D, max_seqlen, invalid: 1 when strict and a
  // position inside a sequence is not the one before it + 1; the CPU
  // raises instead), on the input's device.
  m.def("cu_seqlens_from_position_ids_padded(Tensor position_ids, bool "
        "strict=True, int max_documents=-1) -> (Tensor cu_seqlens, Tensor "
        "summary)");
}

std::tuple<at::Tensor, int64_t>
cu_seqlens_from_position_ids(const at::Tensor &position_ids, bool strict) {
  static auto op = ops::findOp<std::tuple<at::Tensor, ops::SymSize>(
      const at::Tensor &, bool)>("packjit::cu_seqlens_from_position_ids");
  auto [cuSeqlens, longest] = op.call(position_ids, strict);
  return {cuSeqlens, ops::concreteInt(longest)};
}

std::tuple<at::Tensor, at::Tensor>
cu_seqlens_from_position_ids_padded(const at::Tensor &position_ids, bool strict,
                                    int64_t max_documents) {
  static auto op = ops::findOp<std::tuple<at::Tensor, at::Tensor>(
      const at::Tensor &, bool, int64_t)>(
      "packjit::cu_seqlens_from_position_ids_padded");
  return op.call(position_ids, strict, max_documents);
}

} // namespace packjit
