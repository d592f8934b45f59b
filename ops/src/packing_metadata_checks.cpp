#include "packing_metadata_checks.h"

#include "unpad_data_checks.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <limits>
#include <string>

namespace packjit::ops {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// The [B, S] view of the caller's position ids ([N] -> [1, N]; [4, B, S] ->
// its text row 0), after the checks of dtype and rank.
at::Tensor positionRows(const at::Tensor &ids, PackingInputs &inputs,
                        const char *op) {
  TORCH_CHECK(at::isIntegralType(ids.scalar_type(), /*includeBool=*/false), op,
              ": position_ids should be an integer tensor, got ",
              ids.scalar_type());
  if (ids.dim() == 3) {
    TORCH_CHECK(ids.size(0) != 3, op, ": position_ids of shape ", ids.sizes(),
                " are 3-D multimodal rotary positions (temporal, height, "
                "width) without text positions: not a packed layout, the "
                "documents cannot be read from them. Pack them as "
                "transformers does, [4, B, S] with the text positions (which "
                "restart at each document) in row 0, or pass an "
                "attention_mask");
    TORCH_CHECK(ids.size(0) == 4, op,
                ": 3-D position_ids should be [4, B, S] (row 0: the text "
                "positions, then temporal, height, width), got shape ",
                ids.sizes());
    inputs.multimodal = true;
    return ids.select(0, 0);
  }
  TORCH_CHECK(ids.dim() == 1 || ids.dim() == 2, op,
              ": position_ids should be [N], [B, S] or [4, B, S], got shape ",
              ids.sizes());
  inputs.flatPositions = ids.dim() == 1;
  return ids.dim() == 1 ? ids.unsqueeze(0) : ids;
}

// How errors name position (row, col) of the [B, S] view, in the caller's
// shape.
std::string positionName(const PackingInputs &inputs, int64_t row,
                         int64_t col) {
  if (inputs.flatPositions)
    return "position_ids[" + std::to_string(col) + "]";
  return std::string("position_ids[") + (inputs.multimodal ? "0, " : "") +
         std::to_string(row) + ", " + std::to_string(col) + "]";
}

int64_t int64At(const at::Tensor &rows, int64_t row, int64_t col) {
  return rows.select(0, row)
      .select(0, col)
      .to(at::kCPU, at::kLong)
      .item<int64_t>();
}

// 0-d int64 on `like`'s device: the first index where `bad` (1-D bool) holds,
// or bad.numel() when none does.
at::Tensor firstTrue(const at::Tensor &bad) {
  const int64_t n = bad.numel();
  const at::Tensor index = at::arange(n, bad.options().dtype(at::kLong));
  return at::where(bad, index, at::full({}, n, index.options())).amin();
}

} // namespace

PackingInputs packingInputs(const c10::optional<at::Tensor> &attentionMask,
                            const c10::optional<at::Tensor> &positionIds,
                            int64_t padTo, const char *op) {
  const bool hasMask = attentionMask.has_value() && attentionMask->defined();
  const bool hasPositions = positionIds.has_value() && positionIds->defined();
  TORCH_CHECK(hasMask || hasPositions, op,
              ": pass an attention_mask, position_ids, or both (the documents "
              "then come from the mask and the position ids are checked "
              "against it)");
  TORCH_CHECK(padTo >= 1 && padTo <= kInt32Max, op,
              ": pad_to should be >= 1 (1: no padding; 2*cp for "
              "TransformerEngine's THD with context parallelism), got ",
              padTo);
  PackingInputs inputs;
  if (hasMask) {
    checkAttentionMask(*attentionMask, op);
    inputs.mask = *attentionMask;
  }
  if (hasPositions) {
    inputs.positions = positionRows(*positionIds, inputs, op);
    TORCH_CHECK(inputs.positions.numel() <= kInt32Max, op,
                ": position_ids have ", inputs.positions.numel(),
                " tokens, more than cu_seqlens (int32) can count (2^31-1)");
  }
  if (hasMask && hasPositions) {
    TORCH_CHECK(inputs.mask.device() == inputs.positions.device(), op,
                ": attention_mask is on ", inputs.mask.device(),
                " but position_ids are on ", inputs.positions.device());
    TORCH_CHECK(
        inputs.mask.sizes() == inputs.positions.sizes(), op, ": position_ids (",
        inputs.multimodal ? "text row of " : "", "shape ", positionIds->sizes(),
        ") should have the attention_mask's shape ", inputs.mask.sizes());
  }
  return inputs;
}

void checkPaddedTotal(int64_t tokens, int64_t documents, int64_t padTo,
                      const char *op) {
  TORCH_CHECK(tokens + documents * (padTo - 1) <= kInt32Max, op,
              ": pad_to=", padTo,
              " could make cu_seqlens_padded (int32) pass 2^31-1 for ", tokens,
              " tokens in ", documents, " documents");
}

at::Tensor maskSeamCrossing(const at::Tensor &mask) {
  const int64_t rows = mask.size(0), cols = mask.size(1);
  if (rows < 2 || cols == 0)
    return at::full({}, rows, mask.options().dtype(at::kLong));
  const at::Tensor last =
      mask.select(1, cols - 1).narrow(0, 0, rows - 1).to(at::kLong);
  const at::Tensor first =
      mask.select(1, 0).narrow(0, 1, rows - 1).to(at::kLong);
  // Row b+1 of the result is row b of `bad`.
  return firstTrue(last.ge(2).logical_and(last.eq(first))) + 1;
}

void throwMaskSeamCrossing(const at::Tensor &mask, int64_t row,
                           const char *op) {
  const int64_t cols = mask.size(1);
  const int64_t value = int64At(mask, row, 0);
  TORCH_CHECK(false, op, ": strict mode: attention_mask[", row,
              ", 0] = ", value, " continues document ", value,
              " that ends row ", row - 1, " (attention_mask[", row - 1, ", ",
              cols - 1, "] = ", value,
              "): a document crosses the end of a row. Rows never share a "
              "document, so packjit would split it in two, while a reading "
              "of the batch as one stream (position ids flattened to [1, "
              "B*S], THD) would merge it; and documents are numbered per "
              "row (from 1), so id ",
              value, " cannot start row ", row,
              ". Number each row's documents from 1, or pass strict=False to "
              "split the document at the row end");
}

at::Tensor positionSeamCrossing(const at::Tensor &positions) {
  const int64_t rows = positions.size(0), cols = positions.size(1);
  if (rows < 2 || cols == 0)
    return at::full({}, rows, positions.options().dtype(at::kLong));
  const at::Tensor all = positions.to(at::kLong);
  const at::Tensor start = all.amin();
  const at::Tensor last = all.select(1, cols - 1).narrow(0, 0, rows - 1);
  const at::Tensor first = all.select(1, 0).narrow(0, 1, rows - 1);
  // first - 1 cannot overflow: first > start >= INT64_MIN where it matters.
  const at::Tensor continues =
      first.ne(start).logical_and(first.sub(1).eq(last));
  return firstTrue(continues) + 1;
}

void throwPositionSeamCrossing(const PackingInputs &inputs, int64_t row,
                               const char *op) {
  const at::Tensor &p = inputs.positions;
  const int64_t cols = p.size(1);
  const int64_t value = int64At(p, row, 0);
  const int64_t start = p.to(at::kCPU, at::kLong).amin().item<int64_t>();
  TORCH_CHECK(false, op, ": strict mode: ", positionName(inputs, row, 0), " = ",
              value, " continues ", positionName(inputs, row - 1, cols - 1),
              " = ", value - 1, " instead of starting a sequence at ", start,
              ": a document crosses the end of a row. packjit (and "
              "cu_seqlens_from_position_ids) start a sequence at each row, "
              "while transformers' flattened reading of the position ids "
              "merges the two rows' parts. Start each row with a new "
              "document, or pass strict=False to split it at the row end");
}

at::Tensor restartMismatch(const at::Tensor &mask,
                           const at::Tensor &positions) {
  const int64_t rows = mask.size(0), cols = mask.size(1);
  const int64_t n = mask.numel();
  if (n == 0)
    return at::zeros({}, mask.options().dtype(at::kLong));
  const at::Tensor ids = mask.to(at::kLong);
  const at::Tensor kept = ids.ne(0);
  // Strict rows are non-decreasing, so the running maximum before a token
  // is the previous non-zero id of its row (0 before the first).
  const at::Tensor previous =
      at::cat({at::zeros({rows, 1}, ids.options()),
               std::get<0>(at::cummax(ids, 1)).narrow(1, 0, cols - 1)},
              1);
  const at::Tensor startsDocument = kept.logical_and(ids.ne(previous));
  const at::Tensor p = positions.to(at::kLong);
  const at::Tensor start =
      at::where(kept, p,
                at::full({}, std::numeric_limits<int64_t>::max(), p.options()))
          .amin();
  const at::Tensor bad = kept.logical_and(p.eq(start).ne(startsDocument));
  return firstTrue(bad.reshape({-1}));
}

void throwRestartMismatch(const PackingInputs &inputs, int64_t flat,
                          const char *op) {
  const int64_t cols = inputs.mask.size(1);
  const int64_t row = flat / cols, col = flat % cols;
  const at::Tensor ids = inputs.mask.select(0, row).to(at::kCPU, at::kLong);
  const at::Tensor kept = inputs.mask.to(at::kCPU, at::kLong).ne(0);
  const int64_t start =
      at::where(kept, inputs.positions.to(at::kCPU, at::kLong),
                at::full({}, std::numeric_limits<int64_t>::max(), at::kLong))
          .amin()
          .item<int64_t>();
  const int64_t *v = ids.data_ptr<int64_t>();
  int64_t previous = 0;
  for (int64_t s = col - 1; s >= 0 && previous == 0; --s)
    previous = v[s];
  const int64_t position = int64At(inputs.positions, row, col);
  const std::string where = positionName(inputs, row, col) + " = " +
                            std::to_string(position) + " at attention_mask[" +
                            std::to_string(row) + ", " + std::to_string(col) +
                            "] = " + std::to_string(v[col]);
  if (v[col] != previous)
    TORCH_CHECK(false, op, ": strict mode: ", where,
                ", where the mask starts document ", v[col],
                " of its row, but the position ids do not restart there "
                "(the smallest kept position id, where each sequence "
                "starts, is ",
                start,
                "). Position ids must restart exactly where the mask starts "
                "a document; pass strict=False to take the documents from "
                "the mask alone");
  TORCH_CHECK(false, op, ": strict mode: ", where,
              ": the position ids restart (", start,
              ", the smallest kept position id) inside mask document ", v[col],
              ", which started earlier in its row: the two inputs disagree "
              "about where documents start (the mask would merge what the "
              "position ids separate). Pass strict=False to take the "
              "documents from the mask alone");
}

at::Tensor packingChecks(const PackingInputs &inputs) {
  const bool hasMask = inputs.mask.defined();
  const at::Tensor &like = hasMask ? inputs.mask : inputs.positions;
  const int64_t rows = like.size(0), n = like.numel();
  const auto none = [&](int64_t value) {
    return at::full({}, value, like.options().dtype(at::kLong));
  };
  return at::stack(
      {hasMask ? maskSeamCrossing(inputs.mask) : none(rows),
       !hasMask ? positionSeamCrossing(inputs.positions) : none(rows),
       hasMask && inputs.positions.defined()
           ? restartMismatch(inputs.mask, inputs.positions)
           : none(n)});
}

void raiseFirstPackingViolation(const PackingInputs &inputs,
                                const int64_t *found, const char *op) {
  const at::Tensor &like =
      inputs.mask.defined() ? inputs.mask : inputs.positions;
  const int64_t rows = like.size(0);
  if (found[0] < rows)
    throwMaskSeamCrossing(inputs.mask, found[0], op);
  if (found[1] < rows)
    throwPositionSeamCrossing(inputs, found[1], op);
  if (found[2] < like.numel())
    throwRestartMismatch(inputs, found[2], op);
}

} // namespace packjit::ops
