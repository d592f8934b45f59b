// context_parallel_partition(_padded) on CUDA: the JIT-compiled cp_partition
// kernel (kernels_src/cp_partition.mlir) on PyTorch's current stream.
//
// The rank's token count, cu_seqlens_padded[D] / cp_size, lives on the
// device, so the eager op syncs once: a first launch (the document pass)
// writes cu_seqlens_local, checks every document and fills a 3-word summary
// (cu[D], the longest share, the first bad document); one copy of the
// summary to the host sizes the indices, raises the CPU path's error for a
// bad document, and a second launch (the token pass) writes the indices
// without waiting. The sync-free form takes the token count from the caller
// (total_tokens) and runs both passes in one launch; a bad document is then
// only reported in the summary.
#include "../context_parallel_partition_checks.h"
#include "../sym_size.h"
#include "cuda_support.h"

#include "packjit/plan/cp_partition.h"
#include "packjit/runtime/launch.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <torch/library.h>

#include <algorithm>
#include <limits>
#include <tuple>

namespace packjit::ops::cuda {
namespace {

using runtime::Dim3;
using runtime::KernelArg;
using runtime::KernelFamily;

// Grid-stride loops: enough blocks to fill the GPU, each thread loops over
// the rest.
constexpr int64_t kBlocksPerSm = 16;

DType boundariesDType(const at::Tensor &cu) {
  return cu.scalar_type() == at::kInt ? DType::Int32 : DType::Int64;
}

// One cp_partition launch over max(D + 1 documents when `check`, `tokens`)
// items.
void launchPartition(const at::Tensor &cu, int64_t cpSize, int64_t cpRank,
                     bool check, const at::Tensor &cuLocal,
                     const at::Tensor &summary, const at::Tensor &indices,
                     int64_t tokens, const char *op) {
  const int64_t documents = cu.size(0) - 1;
  const int device = cu.device().index();
  const plan::CpPartitionPlan plan = plan::cpPartitionPlan(boundariesDType(cu));
  const int64_t items = std::max(check ? documents + 1 : 0, tokens);
  if (items == 0)
    return;
  const int64_t sms =
      at::cuda::getDeviceProperties(device)->multiProcessorCount;
  const int64_t blocks = std::clamp<int64_t>(
      (items + plan.block - 1) / plan.block, 1, kBlocksPerSm * sms);
  withRuntimeErrors(op, [&] {
    static KernelFamily family(plan::kCpPartitionKernel);
    static const runtime::ConstexprSlot block = family.slot("BLOCK");
    runtime::ConstexprValues values = family.defaults();
    values.set(block, plan.block);
    const runtime::Kernel &kernel =
        family.get(device, {&plan.dtype, 1}, values);
    runtime::launch(
        kernel, Dim3{static_cast<unsigned>(blocks)},
        Dim3{static_cast<unsigned>(plan.block)}, currentStream(cu),
        {KernelArg::pointer(cu.data_ptr()), KernelArg::i64(documents),
         KernelArg::i64(cpSize), KernelArg::i64(cpRank),
         KernelArg::i64(check ? 1 : 0), KernelArg::pointer(cuLocal.data_ptr()),
         KernelArg::pointer(summary.data_ptr()),
         KernelArg::pointer(indices.data_ptr()), KernelArg::i64(tokens)});
  });
}

std::tuple<at::Tensor, at::Tensor, SymSize>
contextParallelPartition(const at::Tensor &cuIn, int64_t cpSize,
                         int64_t cpRank) {
  constexpr const char *op = "packjit.context_parallel_partition";
  checkPartitionArguments(cuIn, cpSize, cpRank, op);
  c10::cuda::CUDAGuard guard(cuIn.device());
  checkNotCapturing(cuIn, op,
                    "Use context_parallel_partition_padded with the padded "
                    "total token count instead.");
  const at::Tensor cu = cuIn.contiguous();
  const auto longOptions = cu.options().dtype(at::kLong);
  at::Tensor cuLocal = at::empty({cu.size(0)}, cu.options().dtype(at::kInt));
  at::Tensor summary = at::full({3}, -1, longOptions);
  at::Tensor none = at::empty({0}, longOptions);
  launchPartition(cu, cpSize, cpRank, /*check=*/true, cuLocal, summary, none, 0,
                  op);
  const at::Tensor host = summary.cpu(); // the op's one sync
  const int64_t *s = host.data_ptr<int64_t>();
  const int64_t total = s[0], longest = s[1], bad = s[2];
  if (bad >= 0 || total / cpSize > std::numeric_limits<int32_t>::max()) {
    checkPartitionBoundaries(cu.cpu(), cpSize, op); // raises the CPU's error
    TORCH_CHECK(false, op, ": the kernel reported document ", bad,
                " as bad but the CPU finds none (internal error)");
  }
  const int64_t tokens = total / cpSize;
  at::Tensor indices = at::empty({tokens}, longOptions);
  launchPartition(cu, cpSize, cpRank, /*check=*/false, cuLocal, summary,
                  indices, tokens, op);
  return {indices, cuLocal, longest};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor>
contextParallelPartitionPadded(const at::Tensor &cuIn, int64_t cpSize,
                               int64_t cpRank, int64_t totalTokens) {
  constexpr const char *op = "packjit.context_parallel_partition_padded";
  checkPartitionArguments(cuIn, cpSize, cpRank, op);
  checkPartitionTotalTokens(totalTokens, cpSize, op);
  c10::cuda::CUDAGuard guard(cuIn.device());
  const at::Tensor cu = cuIn.contiguous();
  const auto longOptions = cu.options().dtype(at::kLong);
  at::Tensor cuLocal = at::empty({cu.size(0)}, cu.options().dtype(at::kInt));
  at::Tensor summary = at::full({3}, -1, longOptions);
  const int64_t tokens = totalTokens / cpSize;
  at::Tensor indices = at::empty({tokens}, longOptions);
  launchPartition(cu, cpSize, cpRank, /*check=*/true, cuLocal, summary, indices,
                  tokens, op);
  return {indices, cuLocal, summary};
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CUDA, m) {
  m.impl("context_parallel_partition", &contextParallelPartition);
  m.impl("context_parallel_partition_padded", &contextParallelPartitionPadded);
}

} // namespace packjit::ops::cuda
