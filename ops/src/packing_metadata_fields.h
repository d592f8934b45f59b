// The fields of packing_metadata that follow from the document boundaries,
// as tensor expressions without a sync (each a fresh allocation on
// cu_seqlens' device): CUDA derives them after its one scan, and both
// devices fill the fixed shapes of packing_metadata_padded with them, so
// that CPU and CUDA results compare element for element.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace packjit::ops {

struct BoundaryFields {
  at::Tensor seqlens;         // int32 [M]: cu[d+1] - cu[d]
  at::Tensor seqIdx;          // int32 [tokens]: boundaries cu[1..M] <= k
  at::Tensor positionIds;     // int64 [tokens]: k - cu[seqIdx[k]]
  at::Tensor cuSeqlensPadded; // int32 [M+1]: 0, running sums of the
                              // lengths rounded up to multiples of padTo
};

// cuSeqlens: int32 [M+1], non-decreasing from 0. tokens: the length of the
// per-token fields (past cu[M] they count one more document, numbered M).
BoundaryFields fieldsFromBoundaries(const at::Tensor &cuSeqlens, int64_t tokens,
                                    int64_t padTo);

} // namespace packjit::ops
