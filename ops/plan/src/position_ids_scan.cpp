#include "packjit/plan/position_ids_scan.h"

namespace packjit::plan {

int64_t positionIdsChunks(int64_t tokens) {
  // Measured on the H200 (docs/benchmarks.md, issue #12, run E).
  constexpr int64_t kTwoChunksFrom = int64_t{1} << 20;
  constexpr int64_t kFourChunksFrom = int64_t{1} << 22;
  if (tokens >= kFourChunksFrom)
    return 4;
  if (tokens >= kTwoChunksFrom)
    return 2;
  return 1;
}

PositionIdsScanPlan positionIdsScanPlan(const PositionIdsScanInput &input) {
  PositionIdsScanPlan plan;
  plan.dtype = input.dtype == DType::Int64 ? DType::Int64 : DType::Int32;
  plan.block = 256;
  plan.strict = input.strict ? 1 : 0;
  plan.padded = input.padded ? 1 : 0;
  plan.chunks = positionIdsChunks(input.batch * input.seqLen);
  return plan;
}

int64_t PositionIdsScanPlan::tileTokens() const {
  constexpr int64_t kChunkBytes = 64;
  return block * chunks * (kChunkBytes / dtypeSize(dtype));
}

PositionIdsScanPlan PositionIdsScanPlan::generic() const {
  PositionIdsScanPlan plan = *this;
  plan.chunks = 1;
  return plan;
}

std::map<std::string, int64_t> PositionIdsScanPlan::byName() const {
  return {{"BLOCK", block},
          {"STRICT", strict},
          {"PADDED", padded},
          {"CHUNKS", chunks}};
}

} // namespace packjit::plan
