// Inputs and strict-mode checks of packing_metadata and
// packing_metadata_padded, shared by the CPU and CUDA paths so that both
// accept the same inputs and report the same problem with the same words.
// The strict checks beyond those of the scans (a document that crosses the
// end of a row; position ids that disagree with the mask) are tensor
// expressions that need no sync: the CPU reads their result at once, CUDA
// after the scan's one wait.
#pragma once

#include <ATen/Tensor.h>
#include <c10/util/Optional.h>

#include <cstdint>

namespace packjit::ops {

struct PackingInputs {
  at::Tensor mask;      // [B, S], or undefined
  at::Tensor positions; // [B, S] view of the (text) position ids, or undefined
  bool flatPositions = false; // the caller passed [N] position ids
  bool multimodal = false;    // the caller passed [4, B, S]: row 0 is used
};

// Checks what the caller passed (at least one input; dtypes; ranks; the
// shapes agree when both are given; pad_to) and returns the [B, S] views.
PackingInputs packingInputs(const c10::optional<at::Tensor> &attentionMask,
                            const c10::optional<at::Tensor> &positionIds,
                            int64_t padTo, const char *op);

// cu_seqlens_padded is int32: refuses a pad_to whose padded total could pass
// 2^31-1 for `tokens` tokens in `documents` documents.
void checkPaddedTotal(int64_t tokens, int64_t documents, int64_t padTo,
                      const char *op);

// 0-d int64 on the mask's device: the first row b >= 1 whose first token
// continues the document that fills the end of row b-1 (the same id v >= 2
// on both sides of the seam), or B when there is none.
at::Tensor maskSeamCrossing(const at::Tensor &mask);
[[noreturn]] void throwMaskSeamCrossing(const at::Tensor &mask, int64_t row,
                                        const char *op);

// 0-d int64: the first row b >= 1 whose first position continues row b-1
// (positions[b, 0] == positions[b-1, S-1] + 1 and not the smallest position,
// where a sequence starts), or B when there is none.
at::Tensor positionSeamCrossing(const at::Tensor &positions);
[[noreturn]] void throwPositionSeamCrossing(const PackingInputs &inputs,
                                            int64_t row, const char *op);

// Both inputs: 0-d int64, the first flat position b*S+s of a kept token
// whose position id equals the smallest kept position id (a restart) where
// the mask does not start a document, or differs from it where the mask
// does; N when there is none. Assumes the mask passed the strict scan (ids
// non-decreasing within rows).
at::Tensor restartMismatch(const at::Tensor &mask, const at::Tensor &positions);
[[noreturn]] void throwRestartMismatch(const PackingInputs &inputs,
                                       int64_t flatPosition, const char *op);

// Raises the first failed check of `found` (int64 [3] on the CPU: the
// results of the three checks above, or their "none" values).
void raiseFirstPackingViolation(const PackingInputs &inputs,
                                const int64_t *found, const char *op);

// The strict checks that apply to `inputs`, as one int64 [3] tensor on the
// inputs' device (maskSeamCrossing, positionSeamCrossing, restartMismatch;
// the "none" value B, B, N where a check does not apply). No sync.
at::Tensor packingChecks(const PackingInputs &inputs);

} // namespace packjit::ops
