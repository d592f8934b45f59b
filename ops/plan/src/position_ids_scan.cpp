#include "packjit/plan/position_ids_scan.h"

namespace packjit::plan {

PositionIdsScanPlan positionIdsScanPlan(const PositionIdsScanInput &input) {
  PositionIdsScanPlan plan;
  plan.dtype = input.dtype == DType::Int64 ? DType::Int64 : DType::Int32;
  plan.block = 256;
  plan.strict = input.strict ? 1 : 0;
  plan.padded = input.padded ? 1 : 0;
  return plan;
}

std::map<std::string, int64_t> PositionIdsScanPlan::byName() const {
  return {{"BLOCK", block}, {"STRICT", strict}, {"PADDED", padded}};
}

} // namespace packjit::plan
