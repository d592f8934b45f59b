// context_parallel_partition and its sync-free form: their schemas and
// their C++ API (packjit/ops.h). Kernels: cpu/context_parallel_partition.cpp
// and cuda/context_parallel_partition.cpp (kernels_src/cp_partition.mlir);
// checks in context_parallel_partition_checks.h; fake kernels in
// python/packjit/_fake.py. Semantics: docs/context_parallel.md.
#include "find_op.h"
#include "packjit/ops.h"
#include "sym_size.h"

#include <torch/library.h>

namespace packjit {

// The rank's token count is cu_seqlens_padded[D] / cp_size and its longest
// document share is data-dependent: the indices' size is unbacked in a
// trace, and max_seqlen_local a SymInt (sym_size.h).
TORCH_LIBRARY_FRAGMENT(packjit, m) {
  m.def("context_parallel_partition(Tensor cu_seqlens_padded, int cp_size, "
        "int cp_rank) -> (Tensor indices, Tensor "
        "cu_seqlens_local, " PACKJIT_SYMINT " max_seqlen_local)");
  // Sync-free, fixed shapes: indices [total_tokens / cp_size] (-1 after the
  // rank's cu_seqlens_padded[D] / cp_size tokens), cu_seqlens_local [D+1],
  // summary int64 [3] = (cu_seqlens_padded[D], max_seqlen_local, the first
  // bad document or -1), on the input's device; the CPU raises instead of
  // reporting a bad document.
  m.def("context_parallel_partition_padded(Tensor cu_seqlens_padded, int "
        "cp_size, int cp_rank, int total_tokens) -> (Tensor indices, Tensor "
        "cu_seqlens_local, Tensor summary)");
}

std::tuple<at::Tensor, at::Tensor, int64_t>
context_parallel_partition(const at::Tensor &cu_seqlens_padded, int64_t cp_size,
                           int64_t cp_rank) {
  static auto op = ops::findOp<std::tuple<at::Tensor, at::Tensor, ops::SymSize>(
      const at::Tensor &, int64_t, int64_t)>(
      "packjit::context_parallel_partition");
  auto [indices, cuLocal, longest] =
      op.call(cu_seqlens_padded, cp_size, cp_rank);
  return {indices, cuLocal, ops::concreteInt(longest)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor>
context_parallel_partition_padded(const at::Tensor &cu_seqlens_padded,
                                  int64_t cp_size, int64_t cp_rank,
                                  int64_t total_tokens) {
  static auto op = ops::findOp<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
      const at::Tensor &, int64_t, int64_t, int64_t)>(
      "packjit::context_parallel_partition_padded");
  return op.call(cu_seqlens_padded, cp_size, cp_rank, total_tokens);
}

} // namespace packjit
