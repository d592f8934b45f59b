// The trainer side of an installed packjit: the varlen metadata of a packed
// batch from its indexed attention mask (two rows, five documents), on the
// CPU. Prints the results; exits 1 when they are not the expected ones.
#include "packjit/ops.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <iostream>
#include <vector>

namespace {

template <typename T> std::vector<int64_t> toVector(const at::Tensor &t) {
  const at::Tensor c = t.contiguous();
  const T *data = c.data_ptr<T>();
  return std::vector<int64_t>(data, data + c.numel());
}

void print(const char *name, const std::vector<int64_t> &values) {
  std::cout << name << ":";
  for (int64_t v : values)
    std::cout << " " << v;
  std::cout << "\n";
}

} // namespace

int main() {
  const at::Tensor mask = at::tensor({1, 1, 2, 2, 2, 0, 1, 2, 2, 3, 3, 3},
                                     at::TensorOptions(at::kLong))
                              .view({2, 6});
  auto [indices, cuSeqlens, maxSeqlen] = packjit::get_unpad_data(mask);

  if (indices.scalar_type() != at::kLong ||
      cuSeqlens.scalar_type() != at::kInt) {
    std::cout << "WRONG dtypes: indices " << indices.scalar_type()
              << ", cu_seqlens " << cuSeqlens.scalar_type() << "\n";
    return 1;
  }
  const std::vector<int64_t> gotIndices = toVector<int64_t>(indices);
  const std::vector<int64_t> gotCuSeqlens = toVector<int32_t>(cuSeqlens);
  print("indices", gotIndices);
  print("cu_seqlens", gotCuSeqlens);
  std::cout << "max_seqlen_in_batch: " << maxSeqlen << "\n";

  const std::vector<int64_t> wantIndices = {0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11};
  const std::vector<int64_t> wantCuSeqlens = {0, 2, 5, 6, 8, 11};
  const bool ok = gotIndices == wantIndices && gotCuSeqlens == wantCuSeqlens &&
                  maxSeqlen == 3;
  std::cout << (ok ? "ok" : "WRONG") << "\n";
  return ok ? 0 : 1;
}
