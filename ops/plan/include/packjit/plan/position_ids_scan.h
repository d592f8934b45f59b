// The position_ids_scan specialization (kernels_src/position_ids_scan.mlir)
// that cu_seqlens_from_position_ids(_padded) launches on CUDA
// (ops/src/cuda/cu_seqlens_from_position_ids.cpp) and `packjit aot --ops`
// compiles: blocks of 256 threads, narrower integer positions widened to
// int32, and CHUNKS (64-byte chunks per thread) 4 from 2M ids: fewer,
// larger tiles once there are more tiles than fit on the GPU at once.
#pragma once

#include "packjit/core/dtype.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace packjit::plan {

inline constexpr std::string_view kPositionIdsScanKernel = "position_ids_scan";

struct PositionIdsScanInput {
  DType dtype = DType::Int64; // the position ids' (any integer dtype)
  int64_t batch = 1;          // [batch, seqLen]; [N] is [1, N]
  int64_t seqLen = 0;         // 0: not known (the plan must not need it)
  bool strict = true;
  bool padded = false;      // cu_seqlens_from_position_ids_padded
  int64_t forcedChunks = 0; // 1..4 (PACKJIT_POSITION_IDS_CHUNKS); 0: by size
};

struct PositionIdsScanPlan {
  DType dtype = DType::Int64; // what the kernel reads: i64, else i32
  int64_t block = 0;
  int64_t strict = 0;
  int64_t padded = 0;
  int64_t chunks = 1; // 64-byte chunks of ids per thread

  // Ids per tile (one block's): BLOCK * CHUNKS * 64 / sizeof(ids).
  int64_t tileTokens() const;
  // The plan of the kernel that serves while this one compiles (tiered
  // specialization): one chunk per thread.
  PositionIdsScanPlan generic() const;
  std::map<std::string, int64_t> byName() const;
};

PositionIdsScanPlan positionIdsScanPlan(const PositionIdsScanInput &input);

// The CHUNKS the plan picks for `tokens` ids (0: not known, the smallest).
int64_t positionIdsChunks(int64_t tokens);
// PACKJIT_POSITION_IDS_CHUNKS: "" -> 0 (the plan's choice), "1".."4" -> the
// chunks, anything else -> nullopt.
std::optional<int64_t> parsePositionIdsChunks(std::string_view text);

} // namespace packjit::plan
