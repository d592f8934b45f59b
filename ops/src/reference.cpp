#include "packjit/reference.h"

#include <ATen/ATen.h>

#include <vector>

namespace packjit::reference {

at::Tensor get_seqlens_in_batch(const at::Tensor &attention_mask) {
  at::Tensor mask = attention_mask.to(at::kLong);
  const int64_t maxId = mask.numel() ? mask.max().item<int64_t>() : 0;
  std::vector<at::Tensor> counts;
  for (int64_t id = 1; id <= maxId; ++id)
    counts.push_back((mask == id).sum(1));
  if (counts.empty())
    return at::empty({0}, mask.options());
  at::Tensor lengths = at::stack(counts, 1).flatten();
  return lengths.masked_select(lengths != 0);
}

std::tuple<at::Tensor, at::Tensor, int64_t>
get_unpad_data(const at::Tensor &attention_mask) {
  at::Tensor lengths = get_seqlens_in_batch(attention_mask);
  at::Tensor indices = at::nonzero(attention_mask.flatten()).flatten();
  at::Tensor cu =
      at::constant_pad_nd(at::cumsum(lengths, 0, at::kInt), {1, 0}, 0);
  return {indices, cu, lengths.max().item<int64_t>()};
}

} // namespace packjit::reference
