// Helpers shared by the CPU op tests: building masks from nested lists,
// reading tensors back as vectors, and a naive per-row implementation of the
// run rule of shared/DESIGN.md written independently of the ops.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace packjit::test {

using Rows = std::vector<std::vector<int64_t>>;

// Every mask dtype the ops accept.
const std::vector<at::ScalarType> &maskDTypes();

// A contiguous CPU tensor [rows.size(), rows[0].size()] of `dtype` (bool: v !=
// 0).
at::Tensor makeMask(const Rows &rows, at::ScalarType dtype = at::kLong);

// The values of a 1-D tensor of any integer dtype, as int64.
std::vector<int64_t> toVector(const at::Tensor &tensor);

// The rows of a 2-D tensor of any integer or bool dtype, as int64.
Rows toRows(const at::Tensor &tensor);

struct UnpadData {
  std::vector<int64_t> indices;
  std::vector<int64_t> cuSeqlens;
  std::vector<int64_t> lengths;
  int64_t maxSeqlen = 0;
};

// The run rule applied row by row: in each row drop the zeros; each maximal
// run of equal values left is one document. No strict check.
UnpadData naiveUnpadData(const Rows &rows);

} // namespace packjit::test
