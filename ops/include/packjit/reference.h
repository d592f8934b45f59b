// The reference algorithm of NeMo Automodel / LlamaFactory, written with ATen
// ops for tests and benchmarks: for each row and each id 1..max(mask), count
// the tokens with that id; flatten row-major; drop zero counts.
// Equal to packjit::get_unpad_data whenever the mask passes strict mode.
#pragma once

#include <ATen/Tensor.h>

#include <tuple>

namespace packjit::reference {

// Raises on an all-zero mask, as the reference does (lengths.max() of nothing).
std::tuple<at::Tensor, at::Tensor, int64_t>
get_unpad_data(const at::Tensor &attention_mask);
at::Tensor get_seqlens_in_batch(const at::Tensor &attention_mask);

} // namespace packjit::reference
