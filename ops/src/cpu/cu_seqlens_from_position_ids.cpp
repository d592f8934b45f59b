// cu_seqlens_from_position_ids on the CPU (transformers'
// DataCollatorWithFlattening convention).
#include "../cu_seqlens_from_position_ids_checks.h"
#include "../sym_size.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <limits>
#include <tuple>
#include <vector>

namespace packjit::ops::cpu {
namespace {

template <typename T>
std::tuple<at::Tensor, int64_t> scan(const at::Tensor &positions, bool strict,
                                     bool flat) {
  const int64_t rows = positions.size(0), cols = positions.size(1);
  const int64_t rowStride = positions.stride(0),
                colStride = positions.stride(1);
  const T *data = positions.data_ptr<T>();
  T start = std::numeric_limits<T>::max();
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t s = 0; s < cols; ++s)
      start = std::min(start, data[b * rowStride + s * colStride]);

  std::vector<int32_t> cu{0};
  int64_t maxLength = 0, total = 0;
  for (int64_t b = 0; b < rows; ++b) {
    const T *row = data + b * rowStride;
    int64_t run = 0;
    for (int64_t s = 0; s < cols; ++s) {
      const T value = row[s * colStride];
      if (s != 0 && value != start) {
        const T previous = row[(s - 1) * colStride];
        // Nothing follows INT64_MAX (previous + 1 would overflow: UB).
        if (strict &&
            (static_cast<int64_t>(previous) ==
                 std::numeric_limits<int64_t>::max() ||
             static_cast<int64_t>(value) != static_cast<int64_t>(previous) + 1))
          throwPositionIdsViolation(flat, b, s, value, previous, start);
      } else if (run != 0) {
        total += run;
        cu.push_back(static_cast<int32_t>(total));
        maxLength = std::max(maxLength, run);
        run = 0;
      }
      ++run;
    }
    if (run != 0) {
      total += run;
      cu.push_back(static_cast<int32_t>(total));
      maxLength = std::max(maxLength, run);
    }
  }
  at::Tensor cuSeqlens = at::empty({static_cast<int64_t>(cu.size())},
                                   positions.options().dtype(at::kInt));
  std::copy(cu.begin(), cu.end(), cuSeqlens.data_ptr<int32_t>());
  return {cuSeqlens, maxLength};
}

// `flat`: the caller's position ids were 1-D (errors name them so).
std::tuple<at::Tensor, int64_t> scanPositions(const at::Tensor &positions,
                                              bool strict, bool flat) {
  switch (positions.scalar_type()) {
  case at::kLong:
    return scan<int64_t>(positions, strict, flat);
  case at::kInt:
    return scan<int32_t>(positions, strict, flat);
  case at::kShort:
    return scan<int16_t>(positions, strict, flat);
  case at::kChar:
    return scan<int8_t>(positions, strict, flat);
  case at::kByte:
    return scan<uint8_t>(positions, strict, flat);
  default:
    TORCH_CHECK(false, "unreachable: dtype checked by asRowsOfPositions");
  }
}

// The longest sequence as a SymSize: the schema's SymInt (sym_size.h).
std::tuple<at::Tensor, SymSize>
cuSeqlensFromPositionIds(const at::Tensor &positionIds, bool strict) {
  at::Tensor positions = asRowsOfPositions(positionIds);
  if (positions.numel() == 0)
    return {at::zeros({1}, positions.options().dtype(at::kInt)), 0};
  return scanPositions(positions, strict, positionIds.dim() == 1);
}

// The fixed-shape form (cu_seqlens_from_position_ids.cpp); the CPU can
// afford to raise, so a strict-mode violation raises here.
std::tuple<at::Tensor, at::Tensor>
cuSeqlensFromPositionIdsPadded(const at::Tensor &positionIds, bool strict,
                               int64_t maxDocuments) {
  at::Tensor positions = asRowsOfPositions(positionIds);
  checkPositionIdsMaxDocuments(maxDocuments);
  const int64_t n = positions.numel();
  const int64_t maxDocs = maxDocuments < 0 ? n : maxDocuments;
  at::Tensor cu = at::full({maxDocs + 1}, static_cast<int32_t>(n),
                           positions.options().dtype(at::kInt));
  at::Tensor summary = at::zeros({4}, positions.options().dtype(at::kLong));
  int64_t docs = 0, longest = 0;
  if (n != 0) {
    auto [exact, max] =
        scanPositions(positions, strict, positionIds.dim() == 1);
    docs = exact.numel() - 1;
    longest = max;
    const int64_t written = std::min(docs, maxDocs) + 1;
    cu.narrow(0, 0, written).copy_(exact.narrow(0, 0, written));
  } else {
    cu.zero_();
  }
  int64_t *s = summary.data_ptr<int64_t>();
  s[0] = n;
  s[1] = docs;
  s[2] = longest;
  s[3] = 0;
  return {cu, summary};
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CPU, m) {
  m.impl("cu_seqlens_from_position_ids", &cuSeqlensFromPositionIds);
  m.impl("cu_seqlens_from_position_ids_padded",
         &cuSeqlensFromPositionIdsPadded);
}

} // namespace packjit::ops::cpu
