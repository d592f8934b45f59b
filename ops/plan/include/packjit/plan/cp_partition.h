// The cp_partition specialization (kernels_src/cp_partition.mlir) that
// context_parallel_partition(_padded) launches on CUDA
// (ops/src/cuda/context_parallel_partition.cpp) and `packjit aot --ops`
// compiles: one per dtype of cu_seqlens_padded.
#pragma once

#include "packjit/core/dtype.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace packjit::plan {

inline constexpr std::string_view kCpPartitionKernel = "cp_partition";

struct CpPartitionPlan {
  DType dtype = DType::Int32; // cu_seqlens_padded's
  int64_t block = 256;

  std::map<std::string, int64_t> byName() const { return {{"BLOCK", block}}; }
};

inline CpPartitionPlan cpPartitionPlan(DType boundariesDType) {
  return {boundariesDType, 256};
}

// The dtypes cu_seqlens_padded may have.
inline const std::vector<DType> &cpPartitionDTypes() {
  static const std::vector<DType> dtypes = {DType::Int32, DType::Int64};
  return dtypes;
}

} // namespace packjit::plan
