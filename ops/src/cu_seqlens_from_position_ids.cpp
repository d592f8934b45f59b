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
}

std::tuple<at::Tensor, int64_t>
cu_seqlens_from_position_ids(const at::Tensor &position_ids, bool strict) {
  static auto op = ops::findOp<std::tuple<at::Tensor, ops::SymSize>(
      const at::Tensor &, bool)>("packjit::cu_seqlens_from_position_ids");
  auto [cuSeqlens, longest] = op.call(position_ids, strict);
  return {cuSeqlens, ops::concreteInt(longest)};
}

} // namespace packjit
