// The mask_any_gt1 specialization (kernels_src/mask_any_gt1.mlir) that
// is_indexed_packed_mask launches on CUDA for a non-bool mask
// (ops/src/cuda/is_indexed_packed_mask.cpp) and `packjit aot --ops`
// compiles.
#pragma once

#include "packjit/core/dtype.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace packjit::plan {

inline constexpr std::string_view kMaskAnyGt1Kernel = "mask_any_gt1";

struct MaskAnyGt1Plan {
  DType dtype = DType::Int64; // the mask's
  int64_t block = 256;

  std::map<std::string, int64_t> byName() const { return {{"BLOCK", block}}; }
};

inline MaskAnyGt1Plan maskAnyGt1Plan(DType maskDType) {
  return {maskDType, 256};
}

} // namespace packjit::plan
