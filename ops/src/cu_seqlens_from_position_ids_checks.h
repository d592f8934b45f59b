// Input checks and strict-mode errors of cu_seqlens_from_position_ids,
// shared by the CPU and CUDA paths.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace packjit::ops {

// Checks dtype and rank and returns a [B, S] view ([N] and [1, N] become [1,
// N]).
at::Tensor asRowsOfPositions(const at::Tensor &positionIds);

// cu_seqlens_from_position_ids_padded: max_documents is -1 (room for B*S
// sequences) or >= 0.
void checkPositionIdsMaxDocuments(int64_t maxDocuments);

// The strict-mode error at [row, position] of the [B, S] view; `flat`: the
// caller passed 1-D position ids, named position_ids[position].
[[noreturn]] void throwPositionIdsViolation(bool flat, int64_t row,
                                            int64_t position, int64_t value,
                                            int64_t previous, int64_t start);

} // namespace packjit::ops
