// The CPU mask scan behind get_unpad_data, get_seqlens_in_batch and
// get_unpad_data_padded: one pass over an attention mask that yields the
// token indices, the document lengths and the longest document, checking
// strict mode as it goes.
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

// `mask` must have passed checkAttentionMask (../unpad_data_checks.h). Throws
// on a strict violation.
MaskScan scanMask(const at::Tensor &mask, bool strict, bool wantIndices,
                  const char *op);

} // namespace packjit::ops::cpu
