// cu_seqlens_from_position_ids on CUDA: one position_ids_scan launch (one
// block; kernels_src/position_ids_scan.mlir), one summary copy, one sync (so
// it refuses to be captured into a CUDA graph).
// Narrow position dtypes are widened to int32 first (the template reads
// int64 and int32).
#include "../cu_seqlens_from_position_ids_checks.h"
#include "../sym_size.h"
#include "cuda_support.h"
#include "summary_copy.h"

#include "packjit/runtime/launch.h"

#include <ATen/ATen.h>
#include <torch/library.h>

namespace packjit::ops::cuda {
namespace {

using runtime::Dim3;
using runtime::KernelArg;
using runtime::KernelFamily;

constexpr int64_t kBlock = 1024;
// The kernel's summary: tokens, D, longest, violation position (-1: none),
// its value, the value before it, kind, smallest position.
constexpr int64_t kFields = 8;

std::tuple<at::Tensor, SymSize>
cuSeqlensFromPositionIds(const at::Tensor &positionIds, bool strict) {
  constexpr const char *op = "packjit.cu_seqlens_from_position_ids";
  at::Tensor positions = asRowsOfPositions(positionIds);
  c10::cuda::CUDAGuard guard(positions.device());
  // The stream sync of readSummary would invalidate the capture.
  checkNotCapturing(positions, op,
                    "It has no sync-free variant yet: compute cu_seqlens "
                    "outside the graph, or from an indexed attention mask "
                    "with packjit.get_unpad_data_padded.");
  if (positions.numel() == 0)
    return {at::zeros({1}, positions.options().dtype(at::kInt)), 0};
  if (positions.scalar_type() != at::kLong &&
      positions.scalar_type() != at::kInt)
    positions = positions.to(at::kInt);
  const int64_t n = positions.numel();
  // Separate allocations: the result owns its storage (no offset into a
  // buffer shared with the summary).
  at::Tensor summary =
      at::empty({kFields}, positions.options().dtype(at::kLong));
  at::Tensor cu = at::empty({n + 1}, positions.options().dtype(at::kInt));
  withRuntimeErrors(op, [&] {
    static KernelFamily family("position_ids_scan");
    static const runtime::ConstexprSlot block = family.slot("BLOCK"),
                                        strictSlot = family.slot("STRICT");
    const DType dtype =
        positions.scalar_type() == at::kLong ? DType::Int64 : DType::Int32;
    runtime::ConstexprValues values = family.defaults();
    values.set(block, kBlock).set(strictSlot, strict ? 1 : 0);
    const runtime::Kernel &kernel =
        family.get(positions.device().index(), {&dtype, 1}, values);
    runtime::launch(
        kernel, Dim3{1}, Dim3{static_cast<unsigned>(kBlock)},
        currentStream(positions),
        {KernelArg::pointer(positions.data_ptr()),
         KernelArg::i64(positions.size(0)), KernelArg::i64(positions.size(1)),
         KernelArg::i64(positions.stride(0)),
         KernelArg::i64(positions.stride(1)), KernelArg::pointer(cu.data_ptr()),
         KernelArg::pointer(summary.data_ptr())});
  });
  const HostSummary s =
      readSummary(summary.data_ptr<int64_t>(), kFields, positions, op);
  if (s[3] >= 0)
    throwPositionIdsViolation(s[3] / positions.size(1),
                              s[3] % positions.size(1), s[4], s[5], s[7]);
  return {cu.narrow(0, 0, s[1] + 1), s[2]};
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CUDA, m) {
  m.impl("cu_seqlens_from_position_ids", &cuSeqlensFromPositionIds);
}

} // namespace packjit::ops::cuda
