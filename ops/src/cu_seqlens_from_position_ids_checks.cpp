#include "cu_seqlens_from_position_ids_checks.h"

#include <c10/util/Exception.h>

#include <limits>
#include <string>

namespace packjit::ops {

namespace {
constexpr const char *kOp = "packjit.cu_seqlens_from_position_ids";
}

at::Tensor asRowsOfPositions(const at::Tensor &positionIds) {
  TORCH_CHECK(positionIds.defined(), kOp, ": position_ids is undefined");
  TORCH_CHECK(positionIds.dim() == 1 || positionIds.dim() == 2, kOp,
              ": position_ids should be [N], [1, N] or [B, S], got shape ",
              positionIds.sizes());
  const at::ScalarType dtype = positionIds.scalar_type();
  TORCH_CHECK(at::isIntegralType(dtype, /*includeBool=*/false), kOp,
              ": position_ids should be an integer tensor, got ", dtype);
  TORCH_CHECK(positionIds.numel() <= std::numeric_limits<int32_t>::max(), kOp,
              ": position_ids has ", positionIds.numel(),
              " tokens, more than cu_seqlens (int32) can count (2^31-1)");
  return positionIds.dim() == 1 ? positionIds.unsqueeze(0) : positionIds;
}

void checkPositionIdsMaxDocuments(int64_t maxDocuments) {
  TORCH_CHECK(maxDocuments >= -1,
              "packjit.cu_seqlens_from_position_ids_padded: max_documents "
              "should be -1 (B*S) or >= 0, got ",
              maxDocuments);
}

void throwPositionIdsViolation(bool flat, int64_t row, int64_t position,
                               int64_t value, int64_t previous, int64_t start) {
  const std::string where =
      flat ? std::to_string(position)
           : std::to_string(row) + ", " + std::to_string(position);
  // No position follows INT64_MAX; previous + 1 would overflow.
  const std::string expected = previous == std::numeric_limits<int64_t>::max()
                                   ? std::string("none can follow it")
                                   : "expected " + std::to_string(previous + 1);
  TORCH_CHECK(false, kOp, ": strict mode: position_ids[", where, "] = ", value,
              " follows ", previous, " (", expected,
              ", or the sequence start ", start,
              "); positions inside a sequence must increase by exactly 1. "
              "Pass strict=False to skip this check");
}

} // namespace packjit::ops
