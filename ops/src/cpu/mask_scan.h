// The CPU mask scan: one pass over an attention mask that yields the token
// indices, the document lengths and the longest document, checking strict
// mode as it goes.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

namespace packjit::ops::cpu {

struct MaskScan {
  at::Tensor indices;           // int64 [nnz]; undefined unless asked for
  std::vector<int64_t> lengths; // document lengths, row-major then run order
  int64_t maxLength = 0;
};

// `mask` must have passed checkAttentionMask. Throws on a strict violation.
MaskScan scanMask(const at::Tensor &mask, bool strict, bool wantIndices,
                  const char *op);

} // namespace packjit::ops::cpu
