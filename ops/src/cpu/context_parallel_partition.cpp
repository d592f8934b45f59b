// context_parallel_partition on the CPU: TransformerEngine's THD rule,
// document after document (docs/context_parallel.md).
#include "../context_parallel_partition_checks.h"
#include "../sym_size.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <tuple>

namespace packjit::ops::cpu {
namespace {

struct Partition {
  at::Tensor indices;  // int64 [tokens]
  at::Tensor cuLocal;  // int32 [D + 1]
  int64_t longest = 0; // max P_d / cp_size
  int64_t total = 0;   // cu[D]
};

// Checked boundaries (checkPartitionBoundaries) -> the rank's share, written
// into `tokens` entries (-1 after the rank's cu[D] / cp_size tokens).
Partition partition(const at::Tensor &cuIn, int64_t cpSize, int64_t cpRank,
                    int64_t tokens, const char *op) {
  checkPartitionBoundaries(cuIn, cpSize, op);
  const at::Tensor cu = cuIn.to(at::kLong).contiguous();
  const int64_t *c = cu.data_ptr<int64_t>();
  const int64_t documents = cu.size(0) - 1;
  Partition out;
  out.total = c[documents];
  if (tokens < 0)
    tokens = out.total / cpSize;
  out.indices = at::empty({tokens}, cuIn.options().dtype(at::kLong));
  out.cuLocal = at::empty({documents + 1}, cuIn.options().dtype(at::kInt));
  int64_t *index = out.indices.data_ptr<int64_t>();
  int32_t *local = out.cuLocal.data_ptr<int32_t>();
  int64_t written = 0;
  for (int64_t d = 0; d <= documents; ++d)
    local[d] = static_cast<int32_t>(c[d] / cpSize);
  const int64_t mirror = 2 * cpSize - 1 - cpRank;
  for (int64_t d = 0; d < documents && written < tokens; ++d) {
    const int64_t chunk = (c[d + 1] - c[d]) / (2 * cpSize);
    for (int64_t which : {cpRank, mirror}) {
      const int64_t first = c[d] + which * chunk;
      for (int64_t j = 0; j < chunk && written < tokens; ++j)
        index[written++] = first + j;
    }
  }
  for (int64_t d = 0; d < documents; ++d)
    out.longest = std::max(out.longest, (c[d + 1] - c[d]) / cpSize);
  std::fill(index + written, index + tokens, int64_t{-1});
  return out;
}

std::tuple<at::Tensor, at::Tensor, SymSize>
contextParallelPartition(const at::Tensor &cuSeqlensPadded, int64_t cpSize,
                         int64_t cpRank) {
  constexpr const char *op = "packjit.context_parallel_partition";
  checkPartitionArguments(cuSeqlensPadded, cpSize, cpRank, op);
  Partition p = partition(cuSeqlensPadded, cpSize, cpRank, -1, op);
  return {p.indices, p.cuLocal, p.longest};
}

// The fixed-shape form (context_parallel_partition.cpp); the CPU can afford
// to raise, so a bad document raises here and summary[2] is always -1.
std::tuple<at::Tensor, at::Tensor, at::Tensor>
contextParallelPartitionPadded(const at::Tensor &cuSeqlensPadded,
                               int64_t cpSize, int64_t cpRank,
                               int64_t totalTokens) {
  constexpr const char *op = "packjit.context_parallel_partition_padded";
  checkPartitionArguments(cuSeqlensPadded, cpSize, cpRank, op);
  checkPartitionTotalTokens(totalTokens, cpSize, op);
  Partition p =
      partition(cuSeqlensPadded, cpSize, cpRank, totalTokens / cpSize, op);
  at::Tensor summary = at::empty({3}, p.indices.options());
  int64_t *s = summary.data_ptr<int64_t>();
  s[0] = p.total;
  s[1] = p.longest;
  s[2] = -1;
  return {p.indices, p.cuLocal, summary};
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CPU, m) {
  m.impl("context_parallel_partition", &contextParallelPartition);
  m.impl("context_parallel_partition_padded", &contextParallelPartitionPadded);
}

} // namespace packjit::ops::cpu
