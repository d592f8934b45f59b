// Argument checks and boundary errors of context_parallel_partition, shared
// by the CPU and CUDA paths (the CUDA path raises the CPU's error once the
// kernel has reported a bad document).
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace packjit::ops {

// cu_seqlens_padded is a 1-D int32 or int64 tensor with at least one entry;
// cp_size >= 1; 0 <= cp_rank < cp_size. `op` names the caller.
void checkPartitionArguments(const at::Tensor &cuSeqlensPadded, int64_t cpSize,
                             int64_t cpRank, const char *op);

// context_parallel_partition_padded: total_tokens >= 0, a multiple of
// cp_size, and its share fits int32.
void checkPartitionTotalTokens(int64_t totalTokens, int64_t cpSize,
                               const char *op);

// The boundaries of a CPU tensor (int64 copy of any checked dtype):
// cu[0] == 0, non-decreasing, every length a multiple of 2*cp_size and
// cu[D] / cp_size within int32. Raises the first violation.
void checkPartitionBoundaries(const at::Tensor &cuCpu, int64_t cpSize,
                              const char *op);

} // namespace packjit::ops
