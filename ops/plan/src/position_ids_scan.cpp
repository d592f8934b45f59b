#include "packjit/plan/position_ids_scan.h"

namespace packjit::plan {

namespace {
constexpr int64_t kLargePositionIdsBytes = int64_t{4} << 20;
}

PositionIdsScanPlan positionIdsScanPlan(const PositionIdsScanInput &input) {
  PositionIdsScanPlan plan;
  plan.dtype = input.dtype == DType::Int64 ? DType::Int64 : DType::Int32;
  // Beyond 4 MB of ids, blocks of 1024 (64 KB of ids per tile): a quarter
  // of the tiles, and the look-back's chain of steps is what bounds the
  // kernel there (docs/benchmarks.md, issue #12). 64 registers, one block
  // per SM.
  const int64_t bytes = input.batch * input.seqLen *
                        (plan.dtype == DType::Int64 ? 8 : 4);
  plan.block = bytes > kLargePositionIdsBytes ? 1024 : 256;
  plan.strict = input.strict ? 1 : 0;
  plan.padded = input.padded ? 1 : 0;
  return plan;
}

std::map<std::string, int64_t> PositionIdsScanPlan::byName() const {
  return {{"BLOCK", block}, {"STRICT", strict}, {"PADDED", padded}};
}

} // namespace packjit::plan
