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
std::tuple<at::Tensor, int64_t> scan(const at::Tensor &positions, bool strict) {
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
        if (strict &&
            static_cast<int64_t>(value) != static_cast<int64_t>(previous) + 1)
          throwPositionIdsViolation(b, s, value, previous, start);
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

// The longest sequence as a SymSize: the schema's SymInt (sym_size.h).
std::tuple<at::Tensor, SymSize>
cuSeqlensFromPositionIds(const at::Tensor &positionIds, bool strict) {
  at::Tensor positions = asRowsOfPositions(positionIds);
  if (positions.numel() == 0)
    return {at::zeros({1}, positions.options().dtype(at::kInt)), 0};
  switch (positions.scalar_type()) {
  case at::kLong:
    return scan<int64_t>(positions, strict);
  case at::kInt:
    return scan<int32_t>(positions, strict);
  case at::kShort:
    return scan<int16_t>(positions, strict);
  case at::kChar:
    return scan<int8_t>(positions, strict);
  case at::kByte:
    return scan<uint8_t>(positions, strict);
  default:
    TORCH_CHECK(false, "unreachable: dtype checked by asRowsOfPositions");
  }
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CPU, m) {
  m.impl("cu_seqlens_from_position_ids", &cuSeqlensFromPositionIds);
}

} // namespace packjit::ops::cpu
