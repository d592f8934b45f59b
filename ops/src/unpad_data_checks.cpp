#include "unpad_data_checks.h"

#include <c10/util/Exception.h>

#include <limits>

namespace packjit::ops {

void checkAttentionMask(const at::Tensor &mask, const char *op) {
  TORCH_CHECK(mask.defined(), op, ": attention_mask is undefined");
  TORCH_CHECK(mask.dim() == 2, op,
              ": attention_mask should be a 2-D [B, S] tensor, got ",
              mask.dim(), "-D with shape ", mask.sizes());
  TORCH_CHECK(!at::isFloatingType(mask.scalar_type()) &&
                  !at::isComplexType(mask.scalar_type()),
              op, ": attention_mask should be an integer or bool tensor, got ",
              mask.scalar_type());
  switch (mask.scalar_type()) {
  case at::kLong:
  case at::kInt:
  case at::kShort:
  case at::kChar:
  case at::kByte:
  case at::kBool:
    break;
  default:
    TORCH_CHECK(false, op, ": unsupported attention_mask dtype ",
                mask.scalar_type(),
                " (supported: int64, int32, int16, int8, uint8, bool)");
  }
  TORCH_CHECK(mask.numel() <= std::numeric_limits<int32_t>::max(), op,
              ": attention_mask has ", mask.numel(),
              " tokens, more than cu_seqlens (int32) can count (2^31-1)");
}

void throwStrictViolation(const char *op, const StrictViolation &v) {
  std::string before =
      v.previousPosition < 0
          ? std::string("no non-zero value before it in its row")
          : "the previous non-zero value in its row is " +
                std::to_string(v.previousValue) + " at position " +
                std::to_string(v.previousPosition);
  if (v.kind == StrictViolation::Negative)
    TORCH_CHECK(false, op, ": attention_mask[", v.row, ", ", v.position,
                "] = ", v.value, " is negative (", before,
                "); ids must be 0 (padding) or positive document ids");
  TORCH_CHECK(false, op, ": strict mode: attention_mask[", v.row, ", ",
              v.position, "] = ", v.value,
              " is smaller than the value before it (", before,
              "); document ids must be non-decreasing within a row. Pass "
              "strict=False to count each run of equal ids as one document");
}

void checkMaxDocuments(int64_t maxDocuments, const char *op) {
  TORCH_CHECK(maxDocuments >= -1, op,
              ": max_documents should be -1 (B*S) or >= 0, got ", maxDocuments);
}

at::ScalarType seqlensDType(at::ScalarType maskDType) {
  return maskDType == at::kLong || maskDType == at::kInt ? maskDType : at::kInt;
}

} // namespace packjit::ops
