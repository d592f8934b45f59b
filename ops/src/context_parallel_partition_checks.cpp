#include "context_parallel_partition_checks.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <limits>

namespace packjit::ops {

void checkPartitionArguments(const at::Tensor &cuSeqlensPadded, int64_t cpSize,
                             int64_t cpRank, const char *op) {
  TORCH_CHECK(cuSeqlensPadded.dim() == 1, op,
              ": cu_seqlens_padded should be 1-D [documents + 1], got ",
              cuSeqlensPadded.dim(), "-D");
  TORCH_CHECK(cuSeqlensPadded.scalar_type() == at::kInt ||
                  cuSeqlensPadded.scalar_type() == at::kLong,
              op, ": cu_seqlens_padded should be int32 or int64, got ",
              cuSeqlensPadded.scalar_type());
  TORCH_CHECK(cuSeqlensPadded.size(0) >= 1, op,
              ": cu_seqlens_padded should hold at least one boundary (0)");
  TORCH_CHECK(cpSize >= 1, op, ": cp_size should be >= 1, got ", cpSize);
  TORCH_CHECK(cpRank >= 0 && cpRank < cpSize, op,
              ": cp_rank should be in [0, cp_size) = [0, ", cpSize, "), got ",
              cpRank);
}

void checkPartitionTotalTokens(int64_t totalTokens, int64_t cpSize,
                               const char *op) {
  TORCH_CHECK(totalTokens >= 0 && totalTokens % cpSize == 0, op,
              ": total_tokens should be >= 0 and a multiple of cp_size = ",
              cpSize, ", got ", totalTokens);
  TORCH_CHECK(totalTokens / cpSize <= std::numeric_limits<int32_t>::max(), op,
              ": total_tokens / cp_size = ", totalTokens / cpSize,
              " exceeds int32 (cu_seqlens_local is int32)");
}

void checkPartitionBoundaries(const at::Tensor &cuCpu, int64_t cpSize,
                              const char *op) {
  const at::Tensor cu = cuCpu.to(at::kLong).contiguous();
  const int64_t *c = cu.data_ptr<int64_t>();
  const int64_t documents = cu.size(0) - 1;
  TORCH_CHECK(c[0] == 0, op, ": cu_seqlens_padded[0] should be 0, got ", c[0]);
  const int64_t chunks = 2 * cpSize;
  for (int64_t d = 0; d < documents; ++d) {
    TORCH_CHECK(c[d + 1] >= c[d], op,
                ": cu_seqlens_padded should be non-decreasing, but "
                "cu_seqlens_padded[",
                d + 1, "] = ", c[d + 1], " < cu_seqlens_padded[", d,
                "] = ", c[d]);
    const int64_t length = c[d + 1] - c[d];
    TORCH_CHECK(length % chunks == 0, op, ": document ", d,
                " has padded length ", length, " (cu_seqlens_padded[", d,
                "] = ", c[d], ", [", d + 1, "] = ", c[d + 1],
                "), not a multiple of 2*cp_size = ", chunks,
                ". Pad every document to a multiple of 2*cp_size "
                "(packing_metadata(..., pad_to=2*cp_size)); rounding it "
                "down would drop its last tokens (TransformerEngine #1930)");
  }
  TORCH_CHECK(c[documents] / cpSize <= std::numeric_limits<int32_t>::max(), op,
              ": cu_seqlens_padded[", documents,
              "] / cp_size = ", c[documents] / cpSize,
              " exceeds int32 (cu_seqlens_local is int32)");
}

} // namespace packjit::ops
