// Tensors made from fuzzer bytes for the CPU op fuzzers: an integer or bool
// tensor [B, S] in one of several memory layouts (contiguous, transposed,
// sliced, strided rows, broadcast rows or columns), so that the ops' stride
// handling is fuzzed along with their values.
#pragma once

#include <ATen/ATen.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>

namespace packjit::fuzz {

// A contiguous int64 tensor of `sizes` filled from the fuzzer's bytes: small
// ids (mostly 0..5, sometimes negative), ids that rise along a row, or raw
// 64-bit values, as the first byte picks.
inline at::Tensor fuzzedValues(FuzzedDataProvider &in, at::IntArrayRef sizes) {
  at::Tensor values = at::zeros(sizes, at::kLong);
  int64_t *data = values.data_ptr<int64_t>();
  const int mode = in.ConsumeIntegralInRange(0, 3);
  int64_t rising = 0;
  for (int64_t i = 0; i < values.numel(); ++i) {
    const uint8_t byte = in.ConsumeIntegral<uint8_t>();
    switch (mode) {
    case 0: // small ids, a few negative
      data[i] = byte >= 250 ? 249 - int64_t(byte) : byte % 6;
      break;
    case 1: // rising ids with padding: strict-valid when the rows are long
      rising += byte % 4 == 0;
      data[i] = byte < 48 ? 0 : rising;
      break;
    case 2: // positions that count up and restart
      rising = byte < 40 ? byte % 3 : rising + 1;
      data[i] = rising;
      break;
    default: // anything
      data[i] = static_cast<int64_t>(uint64_t(byte) << (8 * (byte % 8)) ^
                                     in.ConsumeIntegral<uint64_t>());
    }
  }
  return values;
}

enum class Layout {
  Contiguous,
  Transposed,
  ColumnSlice,
  StridedRows,
  BroadcastRow,
  BroadcastColumn,
  kLast = BroadcastColumn
};

inline const char *layoutName(Layout layout) {
  static const char *names[] = {"contiguous",    "transposed",
                                "column-slice",  "strided-rows",
                                "broadcast-row", "broadcast-column"};
  return names[static_cast<int>(layout)];
}

// A [batch, cols] tensor of `dtype` laid out as `layout`, values from the
// fuzzer (cast to dtype; bool: v != 0).
inline at::Tensor fuzzedMatrix(FuzzedDataProvider &in, int64_t batch,
                               int64_t cols, at::ScalarType dtype,
                               Layout layout) {
  auto make = [&](at::IntArrayRef sizes) {
    at::Tensor values = fuzzedValues(in, sizes);
    return dtype == at::kBool ? values.ne(0) : values.to(dtype);
  };
  switch (layout) {
  case Layout::Contiguous:
    return make({batch, cols});
  case Layout::Transposed:
    return make({cols, batch}).t();
  case Layout::ColumnSlice: {
    const int64_t extra = in.ConsumeIntegralInRange<int64_t>(1, 5);
    const int64_t offset = in.ConsumeIntegralInRange<int64_t>(0, extra);
    return make({batch, cols + extra}).narrow(1, offset, cols);
  }
  case Layout::StridedRows:
    return make({2 * batch, cols}).slice(0, 0, 2 * batch, 2);
  case Layout::BroadcastRow:
    return make({1, cols}).expand({batch, cols});
  case Layout::BroadcastColumn:
    return make({batch, 1}).expand({batch, cols});
  }
  return {};
}

inline std::string errorOf(const std::exception &e) {
  // c10::Error::what() carries a backtrace after the message in some
  // builds; the message is the first line.
  std::string what = e.what();
  return what.substr(0, what.find('\n'));
}

} // namespace packjit::fuzz
