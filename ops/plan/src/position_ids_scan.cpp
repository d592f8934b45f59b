#include "packjit/plan/position_ids_scan.h"

namespace packjit::plan {

int64_t positionIdsChunks(int64_t tokens) {
  // H200, docs/benchmarks.md (issue #12, run E): four chunks 21 % faster
  // at 4M ids and 25 % at 16M, one and four even at 1M, two never ahead.
  constexpr int64_t kFourChunksFrom = int64_t{1} << 21;
  return tokens >= kFourChunksFrom ? 4 : 1;
}

std::optional<int64_t> parsePositionIdsChunks(std::string_view text) {
  if (text.empty())
    return 0;
  if (text.size() == 1 && text[0] >= '1' && text[0] <= '4')
    return text[0] - '0';
  return std::nullopt;
}

PositionIdsScanPlan positionIdsScanPlan(const PositionIdsScanInput &input) {
  PositionIdsScanPlan plan;
  plan.dtype = input.dtype == DType::Int64 ? DType::Int64 : DType::Int32;
  plan.block = 256;
  plan.strict = input.strict ? 1 : 0;
  plan.padded = input.padded ? 1 : 0;
  plan.chunks = input.forcedChunks
                    ? input.forcedChunks
                    : positionIdsChunks(input.batch * input.seqLen);
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
