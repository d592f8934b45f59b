#include "unpad_data_scan.h"

#include "../unpad_data_checks.h"
#include "large_buffer.h"

#include <ATen/ATen.h>

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace packjit::ops::cpu {
namespace {

// Index outputs from this size on are written with streaming stores: about
// the last-level cache of one core's share.
constexpr int64_t kStreamingBytes = int64_t(8) << 20;

template <typename T> int64_t valueAt(const T *row, int64_t s, int64_t stride) {
  return static_cast<int64_t>(row[s * stride]);
}

// The first position at or after `s` whose value is not `value`. Contiguous
// rows are compared a cache line at a time, which the compiler vectorizes.
template <typename T, bool UnitColStride>
int64_t runEnd(const T *row, int64_t s, int64_t cols, int64_t colStride,
               T value) {
  if constexpr (UnitColStride) {
    constexpr int64_t kLanes = 64 / sizeof(T);
    for (; s + kLanes <= cols; s += kLanes) {
      unsigned differs = 0;
      for (int64_t k = 0; k < kLanes; ++k)
        differs |= row[s + k] != value;
      if (differs)
        break;
    }
  }
  while (s < cols && row[s * colStride] == value)
    ++s;
  return s;
}

// out[k] = first + k for k < count. Streaming stores bypass the cache: for
// outputs larger than it they skip the read-for-ownership of every line.
template <bool Streaming>
void writeIndexRun(int64_t *out, int64_t first, int64_t count) {
  int64_t k = 0;
#if defined(__SSE2__)
  if constexpr (Streaming) {
    if ((reinterpret_cast<uintptr_t>(out) & 15) != 0 && count > 0) {
      out[0] = first;
      k = 1;
    }
    __m128i pair = _mm_set_epi64x(first + k + 1, first + k);
    const __m128i two = _mm_set1_epi64x(2);
    for (; k + 2 <= count; k += 2) {
      _mm_stream_si128(reinterpret_cast<__m128i *>(out + k), pair);
      pair = _mm_add_epi64(pair, two);
    }
  }
#endif
  for (; k < count; ++k)
    out[k] = first + k;
}

// One pass, row by row, a run of equal values at a time: padding runs are
// skipped, and a run of a document's tokens is found with vector compares
// and its indices written with vector stores. Checks and document
// boundaries cost once per run, not per token.
template <typename T, bool WriteIndices, bool UnitColStride, bool Streaming>
void scanRows(const T *data, int64_t rows, int64_t cols, int64_t rowStride,
              int64_t anyColStride, bool strict, int64_t *indices,
              MaskScan &out, const char *op) {
  const int64_t colStride = UnitColStride ? 1 : anyColStride;
  int64_t nnz = 0;
  for (int64_t b = 0; b < rows; ++b) {
    const T *row = data + b * rowStride;
    const int64_t flatBase = b * cols;
    int64_t previous = 0; // the row's last non-zero value; 0 before the first
    int64_t run = 0;
    for (int64_t s = 0;;) {
      s = runEnd<T, UnitColStride>(row, s, cols, colStride, T(0));
      if (s == cols)
        break;
      const T raw = row[s * colStride];
      const int64_t value = static_cast<int64_t>(raw);
      if (value != previous) {
        if (value < 0 || (strict && value < previous))
          throwStrictViolationAt(
              op, b, s, [&](int64_t p) { return valueAt(row, p, colStride); });
        if (run != 0) {
          out.lengths.push_back(run);
          out.maxLength = std::max(out.maxLength, run);
        }
        previous = value;
        run = 0;
      }
      const int64_t end =
          runEnd<T, UnitColStride>(row, s + 1, cols, colStride, raw);
      if constexpr (WriteIndices)
        writeIndexRun<Streaming>(indices + nnz, flatBase + s, end - s);
      nnz += end - s;
      run += end - s;
      s = end;
    }
    if (run != 0) {
      out.lengths.push_back(run);
      out.maxLength = std::max(out.maxLength, run);
    }
  }
#if defined(__SSE2__)
  if constexpr (Streaming)
    _mm_sfence(); // order the streaming stores before the tensor is used
#endif
  if constexpr (WriteIndices)
    out.indices = out.indices.narrow(0, 0, nnz);
}

template <typename T>
void scanTyped(const at::Tensor &mask, bool strict, bool wantIndices,
               MaskScan &out, const char *op) {
  // An empty mask may have no storage: a null data pointer, which even
  // `data + b * rowStride` must not be offset from (UB).
  if (mask.numel() == 0) {
    if (wantIndices)
      out.indices = at::empty({0}, mask.options().dtype(at::kLong));
    return;
  }
  const T *data = mask.data_ptr<T>();
  const int64_t rows = mask.size(0), cols = mask.size(1);
  const int64_t rowStride = mask.stride(0), colStride = mask.stride(1);
  if (!wantIndices) {
    if (colStride == 1)
      scanRows<T, false, true, false>(data, rows, cols, rowStride, 1, strict,
                                      nullptr, out, op);
    else
      scanRows<T, false, false, false>(data, rows, cols, rowStride, colStride,
                                       strict, nullptr, out, op);
    return;
  }
  // Upper bound; the result is a view of its first nnz entries.
  out.indices = emptyLarge(mask.numel(), at::kLong);
  int64_t *indices = out.indices.data_ptr<int64_t>();
  const bool streaming = mask.numel() * sizeof(int64_t) >= kStreamingBytes;
  if (colStride != 1)
    scanRows<T, true, false, false>(data, rows, cols, rowStride, colStride,
                                    strict, indices, out, op);
  else if (streaming)
    scanRows<T, true, true, true>(data, rows, cols, rowStride, 1, strict,
                                  indices, out, op);
  else
    scanRows<T, true, true, false>(data, rows, cols, rowStride, 1, strict,
                                   indices, out, op);
}

} // namespace

MaskScan scanMask(const at::Tensor &mask, bool strict, bool wantIndices,
                  const char *op) {
  MaskScan out;
  switch (mask.scalar_type()) {
  case at::kLong:
    scanTyped<int64_t>(mask, strict, wantIndices, out, op);
    break;
  case at::kInt:
    scanTyped<int32_t>(mask, strict, wantIndices, out, op);
    break;
  case at::kShort:
    scanTyped<int16_t>(mask, strict, wantIndices, out, op);
    break;
  case at::kChar:
    scanTyped<int8_t>(mask, strict, wantIndices, out, op);
    break;
  case at::kByte:
    scanTyped<uint8_t>(mask, strict, wantIndices, out, op);
    break;
  case at::kBool:
    scanTyped<bool>(mask, strict, wantIndices, out, op);
    break;
  default:
    TORCH_CHECK(false, op, ": unsupported attention_mask dtype ",
                mask.scalar_type());
  }
  return out;
}

} // namespace packjit::ops::cpu
