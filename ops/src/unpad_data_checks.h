// Input checks and strict-mode errors of get_unpad_data, get_seqlens_in_batch
// and get_unpad_data_padded, shared by the CPU and CUDA paths, so that both
// report the same problem with the same words.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace packjit::ops {

// Throws unless `mask` is a 2-D integer or bool tensor with at most 2^31-1
// elements (cu_seqlens is int32). `op` names the caller in the message.
void checkAttentionMask(const at::Tensor &mask, const char *op);

struct StrictViolation {
  enum Kind : int64_t { None = 0, Negative = 1, Decreasing = 2 };
  Kind kind = None;
  int64_t row = 0;
  int64_t position = 0;
  int64_t value = 0;
  // The previous non-zero value of the row and its position; -1 if none.
  int64_t previousPosition = -1;
  int64_t previousValue = 0;
};

// Throws the error for `violation` (its kind must not be None).
[[noreturn]] void throwStrictViolation(const char *op,
                                       const StrictViolation &violation);

// Throws the error for the offending token at (row, position), naming its
// value and the previous non-zero value of its row; valueAt(s) is the
// row's value at column s, as int64.
template <typename ValueAt>
[[noreturn]] void throwStrictViolationAt(const char *op, int64_t row,
                                         int64_t position, ValueAt valueAt) {
  StrictViolation v;
  v.row = row;
  v.position = position;
  v.value = valueAt(position);
  v.kind =
      v.value < 0 ? StrictViolation::Negative : StrictViolation::Decreasing;
  for (int64_t s = position - 1; s >= 0; --s)
    if (valueAt(s) != 0) {
      v.previousPosition = s;
      v.previousValue = valueAt(s);
      break;
    }
  throwStrictViolation(op, v);
}

// get_unpad_data_padded: max_documents is -1 (room for B*S documents) or >= 0.
void checkMaxDocuments(int64_t maxDocuments, const char *op);

// get_seqlens_in_batch's dtype: the mask's for int64/int32, else int32.
at::ScalarType seqlensDType(at::ScalarType maskDType);

} // namespace packjit::ops
