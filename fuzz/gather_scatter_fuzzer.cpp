// unpad_input / unpad_inputs / pad_input on the CPU: their argument checks
// (ranks, dtypes, shapes, strides, indices, sizes near int64's limits) and
// their results, differential against ATen's index_select / index_copy.
// Same result, or an error; never a crash or an out-of-bounds access.
#include "fuzz_tensors.h"

#include "packjit/ops.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr int64_t kHuge[] = {int64_t(1) << 31, int64_t(1) << 33,
                             int64_t(1) << 62,
                             std::numeric_limits<int64_t>::max()};

[[noreturn]] void fail(const std::string &what) {
  std::fprintf(stderr, "mismatch: %s\n", what.c_str());
  std::abort();
}

at::ScalarType dataDType(FuzzedDataProvider &in) {
  // The six supported ones, then two that must be refused.
  static const at::ScalarType dtypes[] = {at::kFloat,  at::kHalf, at::kBFloat16,
                                          at::kDouble, at::kLong, at::kInt,
                                          at::kBool,   at::kChar};
  return dtypes[in.ConsumeIntegralInRange<size_t>(0, 7)];
}

bool supported(at::ScalarType dtype) {
  return dtype != at::kBool && dtype != at::kChar;
}

// A tensor of `sizes` and `dtype` with small integer values, laid out as the
// fuzzer picks: contiguous, a slice of its last dimension, the first two
// dimensions transposed, or broadcast along one dimension.
at::Tensor data(FuzzedDataProvider &in, std::vector<int64_t> sizes,
                at::ScalarType dtype) {
  const int layout = in.ConsumeIntegralInRange(0, 3);
  const int64_t dims = int64_t(sizes.size());
  auto fill = [&](at::IntArrayRef shape) {
    at::Tensor t =
        at::randint(-50, 50, shape, at::TensorOptions().dtype(at::kLong));
    return t.to(dtype);
  };
  if (layout == 1 && dims >= 1) {
    std::vector<int64_t> wider = sizes;
    wider.back() += 3;
    return fill(wider).narrow(-1, in.ConsumeIntegralInRange(0, 3),
                              sizes.back());
  }
  if (layout == 2 && dims >= 2) {
    std::swap(sizes[0], sizes[1]);
    return fill(sizes).transpose(0, 1);
  }
  if (layout == 3 && dims >= 1) {
    const int64_t d = in.ConsumeIntegralInRange<int64_t>(0, dims - 1);
    std::vector<int64_t> one = sizes;
    one[d] = 1;
    return fill(one).expand(sizes);
  }
  return fill(sizes);
}

// Indices: int64 1-D mostly (sometimes strided, 2-D or int32, which must be
// refused), values near [0, rows).
at::Tensor indicesFor(FuzzedDataProvider &in, int64_t rows) {
  const int64_t count = in.ConsumeIntegralInRange<int64_t>(0, 12);
  at::Tensor values = at::empty({2 * count}, at::kLong);
  for (int64_t i = 0; i < 2 * count; ++i)
    values[i] = in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(-2, 2) +
                                       (in.ConsumeBool() ? rows : 0)
                                 : in.ConsumeIntegralInRange<int64_t>(
                                       0, std::max<int64_t>(rows - 1, 0));
  switch (in.ConsumeIntegralInRange(0, 9)) {
  case 0:
    return values.slice(0, 0, 2 * count, 2); // strided
  case 1:
    return values.view({2, count});
  case 2:
    return values.narrow(0, 0, count).to(at::kInt);
  default:
    return values.narrow(0, 0, count);
  }
}

bool indicesAcceptable(const at::Tensor &indices, int64_t rows) {
  if (indices.dim() != 1 || indices.scalar_type() != at::kLong)
    return false;
  for (int64_t i = 0; i < indices.numel(); ++i) {
    const int64_t v = indices[i].item<int64_t>();
    if (v < 0 || v >= rows)
      return false;
  }
  return true;
}

void fuzzUnpad(FuzzedDataProvider &in) {
  // hidden [B, S, ...]: sometimes 1-D (refused), sometimes huge B and S over
  // an empty row (no memory, but B*S overflows).
  const int dims = in.ConsumeIntegralInRange(1, 4);
  std::vector<int64_t> sizes(dims);
  for (int64_t &size : sizes)
    size = in.ConsumeIntegralInRange<int64_t>(0, 5);
  const bool huge = dims >= 3 && in.ConsumeIntegralInRange(0, 15) == 0;
  if (huge) {
    sizes[0] = kHuge[in.ConsumeIntegralInRange(0, 3)];
    sizes[1] = kHuge[in.ConsumeIntegralInRange(0, 3)];
    sizes[2] = 0;
  }
  const at::ScalarType dtype = dataDType(in);
  at::Tensor hidden;
  try {
    hidden = huge ? at::zeros({1, 1, 0}, dtype).expand(sizes)
                  : data(in, sizes, dtype);
  } catch (const c10::Error &) {
    return; // torch itself refuses sizes whose product overflows
  }
  int64_t rows = 0;
  const bool rowsOverflow =
      dims >= 2 && __builtin_mul_overflow(sizes[0], sizes[1], &rows);
  at::Tensor indices = indicesFor(in, rows);
  const bool acceptable = dims >= 2 && supported(dtype) && !rowsOverflow &&
                          indicesAcceptable(indices, rows);
  const bool several = in.ConsumeBool();
  try {
    std::vector<at::Tensor> got =
        several
            ? packjit::unpad_inputs({hidden, hidden.clone()}, indices)
            : std::vector<at::Tensor>{packjit::unpad_input(hidden, indices)};
    if (!acceptable)
      fail("unpad_input accepted bad arguments");
    std::vector<int64_t> flat = {rows};
    flat.insert(flat.end(), sizes.begin() + 2, sizes.end());
    at::Tensor want = hidden.reshape(flat).index_select(0, indices);
    for (const at::Tensor &out : got)
      if (out.sizes() != want.sizes() || out.scalar_type() != dtype ||
          !at::equal(out, want))
        fail("unpad_input differs from index_select");
  } catch (const c10::Error &e) {
    if (acceptable)
      fail(std::string("unpad_input refused good arguments: ") +
           packjit::fuzz::errorOf(e));
  }
}

void fuzzPad(FuzzedDataProvider &in) {
  const int dims = in.ConsumeIntegralInRange(0, 3);
  const at::ScalarType dtype = dataDType(in);
  int64_t batch = in.ConsumeIntegralInRange<int64_t>(-1, 5);
  int64_t seqlen = in.ConsumeIntegralInRange<int64_t>(-1, 5);
  if (in.ConsumeIntegralInRange(0, 15) == 0) {
    batch = kHuge[in.ConsumeIntegralInRange(0, 3)];
    seqlen = kHuge[in.ConsumeIntegralInRange(0, 3)];
  }
  int64_t rows = 0;
  const bool rowsOverflow = __builtin_mul_overflow(batch, seqlen, &rows);
  at::Tensor indices = indicesFor(in, rows);
  std::vector<int64_t> sizes(dims);
  if (dims >= 1)
    sizes[0] = in.ConsumeBool() ? indices.size(-1)
                                : in.ConsumeIntegralInRange<int64_t>(0, 5);
  for (int64_t d = 1; d < dims; ++d)
    sizes[d] = in.ConsumeIntegralInRange<int64_t>(0, 4);
  at::Tensor x = data(in, sizes, dtype);
  int64_t rowElements = 1;
  for (int64_t d = 1; d < dims; ++d)
    rowElements *= sizes[d];
  // A valid request this large would only measure the allocator.
  if (!rowsOverflow && rows > 0 && rowElements > 0 &&
      rows > (int64_t(1) << 22) / rowElements)
    return;
  // Torch may refuse an output whose sizes' running product overflows
  // int64 (its own check is on uint64 bytes): either outcome is right then.
  int64_t outputElements = rows;
  bool outputOverflows = rowsOverflow;
  for (int64_t d = 1; d < dims; ++d)
    outputOverflows |=
        __builtin_mul_overflow(outputElements, sizes[d], &outputElements);
  // pad_input writes each output row once: it refuses repeated indices.
  bool repeats = false;
  if (indices.dim() == 1) {
    std::set<int64_t> distinct;
    for (int64_t i = 0; i < indices.numel(); ++i)
      distinct.insert(indices[i].item<int64_t>());
    repeats = int64_t(distinct.size()) != indices.numel();
  }
  const bool acceptable = dims >= 1 && supported(dtype) && batch >= 0 &&
                          seqlen >= 0 && !outputOverflows &&
                          indices.dim() == 1 && indices.size(0) == sizes[0] &&
                          indicesAcceptable(indices, rows) && !repeats;
  try {
    at::Tensor out = packjit::pad_input(x, indices, batch, seqlen);
    if (outputOverflows && !rowsOverflow)
      return; // torch sized it; nothing to compare in a 0-element output
    if (!acceptable)
      fail("pad_input accepted bad arguments: x " + c10::str(x.sizes()) + " " +
           c10::toString(dtype) + ", indices " + c10::str(indices.sizes()) +
           " " + c10::toString(indices.scalar_type()) + ", batch " +
           std::to_string(batch) + ", seqlen " + std::to_string(seqlen));
    std::vector<int64_t> shape = {batch, seqlen};
    shape.insert(shape.end(), sizes.begin() + 1, sizes.end());
    if (out.sizes() != at::IntArrayRef(shape) || out.scalar_type() != dtype)
      fail("pad_input's shape or dtype");
    std::vector<int64_t> flat = {rows};
    flat.insert(flat.end(), sizes.begin() + 1, sizes.end());
    at::Tensor want = at::zeros(flat, x.options()).index_copy(0, indices, x);
    if (!at::equal(out.reshape(flat), want))
      fail("pad_input differs from index_copy");
  } catch (const c10::Error &e) {
    if (acceptable)
      fail(std::string("pad_input refused good arguments: ") +
           packjit::fuzz::errorOf(e));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider in(data, size);
  at::manual_seed(size);
  if (in.ConsumeBool())
    fuzzUnpad(in);
  else
    fuzzPad(in);
  return 0;
}
