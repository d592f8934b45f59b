#include "test_support.h"

#include <algorithm>

namespace packjit::test {

const std::vector<at::ScalarType> &maskDTypes() {
  static const std::vector<at::ScalarType> dtypes = {
      at::kLong, at::kInt, at::kShort, at::kChar, at::kByte, at::kBool};
  return dtypes;
}

at::Tensor makeMask(const Rows &rows, at::ScalarType dtype) {
  const int64_t batch = static_cast<int64_t>(rows.size());
  const int64_t seqLen = batch == 0 ? 0 : static_cast<int64_t>(rows[0].size());
  at::Tensor mask = at::zeros({batch, seqLen}, at::kLong);
  auto accessor = mask.accessor<int64_t, 2>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < seqLen; ++s)
      accessor[b][s] = rows[b].at(s);
  return dtype == at::kBool ? mask.ne(0) : mask.to(dtype);
}

std::vector<int64_t> toVector(const at::Tensor &tensor) {
  at::Tensor values = tensor.to(at::kLong).contiguous();
  const int64_t *data = values.data_ptr<int64_t>();
  return std::vector<int64_t>(data, data + values.numel());
}

Rows toRows(const at::Tensor &tensor) {
  at::Tensor values = tensor.to(at::kLong).contiguous();
  Rows rows(values.size(0));
  for (int64_t b = 0; b < values.size(0); ++b)
    rows[b] = toVector(values[b]);
  return rows;
}

UnpadData naiveUnpadData(const Rows &rows) {
  UnpadData out;
  out.cuSeqlens.push_back(0);
  const int64_t seqLen =
      rows.empty() ? 0 : static_cast<int64_t>(rows[0].size());
  for (size_t b = 0; b < rows.size(); ++b) {
    std::vector<int64_t> documentIds;
    for (int64_t s = 0; s < seqLen; ++s) {
      const int64_t value = rows[b][s];
      if (value == 0)
        continue;
      out.indices.push_back(static_cast<int64_t>(b) * seqLen + s);
      if (documentIds.empty() || documentIds.back() != value) {
        documentIds.push_back(value);
        out.lengths.push_back(0);
      }
      ++out.lengths.back();
    }
  }
  for (int64_t length : out.lengths) {
    out.cuSeqlens.push_back(out.cuSeqlens.back() + length);
    out.maxSeqlen = std::max(out.maxSeqlen, length);
  }
  return out;
}

} // namespace packjit::test
