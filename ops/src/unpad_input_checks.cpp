#include "unpad_input_checks.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <unordered_set>

namespace packjit::ops {
namespace {

bool supportedDType(at::ScalarType dtype) {
  switch (dtype) {
  case at::kFloat:
  case at::kHalf:
  case at::kBFloat16:
  case at::kDouble:
  case at::kLong:
  case at::kInt:
    return true;
  default:
    return false;
  }
}

void checkData(const at::Tensor &t, const char *name, const char *op) {
  TORCH_CHECK(supportedDType(t.scalar_type()), op, ": ", name,
              " should be float32, float16, bfloat16, float64, int64 or int32, "
              "got ",
              t.scalar_type());
}

void checkIndices(const at::Tensor &indices, const at::Tensor &data,
                  const char *dataName, const char *op) {
  TORCH_CHECK(indices.dim() == 1, op, ": indices should be a 1-D tensor, got ",
              indices.dim(), "-D");
  TORCH_CHECK(indices.scalar_type() == at::kLong, op,
              ": indices should be an int64 tensor, got ",
              indices.scalar_type());
  TORCH_CHECK(indices.device() == data.device(), op, ": ", dataName, " is on ",
              data.device(), " but indices is on ", indices.device(),
              "; both should be on the same device");
}

} // namespace

void checkUnpadInput(const at::Tensor &hidden, const at::Tensor &indices,
                     const char *op) {
  TORCH_CHECK(hidden.dim() >= 2, op,
              ": hidden should be [batch, seqlen, ...] (at least 2-D), got ",
              hidden.dim(), "-D");
  checkData(hidden, "hidden", op);
  checkIndices(indices, hidden, "hidden", op);
}

void checkPadInput(const at::Tensor &x, const at::Tensor &indices,
                   int64_t batch, int64_t seqlen, const char *op) {
  TORCH_CHECK(x.dim() >= 1, op,
              ": x should be [nnz, ...] (at least 1-D), got 0-D");
  checkData(x, "x", op);
  checkIndices(indices, x, "x", op);
  TORCH_CHECK(indices.size(0) == x.size(0), op, ": indices has ",
              indices.size(0), " entries but x has ", x.size(0),
              " rows; they should match");
  TORCH_CHECK(batch >= 0 && seqlen >= 0, op,
              ": batch and seqlen should not be negative, got batch=", batch,
              ", seqlen=", seqlen);
  int64_t rows = 0;
  TORCH_CHECK(!__builtin_mul_overflow(batch, seqlen, &rows), op,
              ": batch*seqlen overflows int64 (batch=", batch,
              ", seqlen=", seqlen, ")");
}

void throwIndexOutOfRange(const char *op, int64_t position, int64_t value,
                          int64_t rows, const char *rowsWhat) {
  TORCH_CHECK(false, op, ": indices[", position, "] = ", value,
              " is out of range [0, ", rows, ") (", rowsWhat, ")");
}

void checkIndicesInRange(const at::Tensor &indices, int64_t rows,
                         const char *op, const char *rowsWhat) {
  at::Tensor contiguous = indices.contiguous();
  const int64_t *values = contiguous.data_ptr<int64_t>();
  for (int64_t i = 0; i < contiguous.numel(); ++i) {
    if (values[i] < 0 || values[i] >= rows)
      throwIndexOutOfRange(op, i, values[i], rows, rowsWhat);
  }
}

void checkIndicesDistinct(const at::Tensor &indices, int64_t rows,
                          const char *op) {
  at::Tensor contiguous = indices.contiguous();
  const int64_t *values = contiguous.data_ptr<int64_t>();
  const int64_t count = contiguous.numel();
  auto fail = [&](int64_t later) {
    const int64_t earlier =
        std::find(values, values + later, values[later]) - values;
    TORCH_CHECK(false, op, ": indices[", later, "] = ", values[later],
                " repeats indices[", earlier,
                "]; pad_input writes each output row once, so its indices "
                "should be distinct");
  };
  if (count < 2)
    return;
  // A bit per output row when that is no more memory than the indices
  // themselves, else a hash set of the indices seen.
  if (rows / 64 <= count) {
    std::vector<uint64_t> seen(static_cast<size_t>((rows + 63) / 64));
    for (int64_t i = 0; i < count; ++i) {
      uint64_t &word = seen[static_cast<size_t>(values[i] / 64)];
      const uint64_t bit = uint64_t{1} << (values[i] % 64);
      if (word & bit)
        fail(i);
      word |= bit;
    }
    return;
  }
  std::unordered_set<int64_t> seen;
  seen.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    if (!seen.insert(values[i]).second)
      fail(i);
}

std::vector<int64_t> trailingSizes(const at::Tensor &t, int64_t first) {
  return std::vector<int64_t>(t.sizes().begin() + first, t.sizes().end());
}

int64_t rowElements(const at::Tensor &t, int64_t first) {
  int64_t n = 1;
  for (int64_t d = first; d < t.dim(); ++d)
    n *= t.size(d);
  return n;
}

bool rowIsContiguous(const at::Tensor &t, int64_t first) {
  int64_t expected = 1;
  for (int64_t d = t.dim() - 1; d >= first; --d) {
    if (t.size(d) == 1)
      continue; // any stride is fine for a dimension of one
    if (t.stride(d) != expected)
      return false;
    expected *= t.size(d);
  }
  return true;
}

at::Tensor rowsOf(const at::Tensor &hidden, int64_t rowDims) {
  const int64_t row = rowElements(hidden, rowDims);
  int64_t rows = 1;
  for (int64_t d = 0; d < rowDims; ++d)
    rows *= hidden.size(d);
  if (rowIsContiguous(hidden, rowDims) && row > 0) {
    // The leading dims must merge into one stride: [B, S] with sB == S*sS
    // (or B or S being one).
    int64_t stride = 0;
    bool mergeable = true;
    int64_t expected = -1;
    for (int64_t d = rowDims - 1; d >= 0; --d) {
      if (hidden.size(d) == 1)
        continue;
      if (expected < 0)
        stride = hidden.stride(d);
      else if (hidden.stride(d) != expected)
        mergeable = false;
      expected = hidden.stride(d) * hidden.size(d);
    }
    if (expected < 0)
      stride = row; // a single row
    if (mergeable && stride >= row)
      return hidden.as_strided({rows, row}, {stride, 1});
  }
  return hidden.contiguous().view({rows, row});
}

} // namespace packjit::ops
