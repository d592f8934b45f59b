// packing_metadata and packing_metadata_padded on the CPU. A mask goes
// through get_unpad_data's scan (unpad_data_scan.h: one pass, strict checks
// on the way), position ids through cu_seqlens_from_position_ids' kernel;
// every field then follows from the document lengths in one loop over the
// documents, each into its own exact allocation. The padded form fills
// fixed shapes from those fields' boundaries (../packing_metadata_fields.h)
// as CUDA does.
#include "../find_op.h"
#include "../packing_metadata_checks.h"
#include "../packing_metadata_fields.h"
#include "../sym_size.h"
#include "../unpad_data_checks.h"
#include "unpad_data_scan.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

namespace packjit::ops::cpu {
namespace {

using Metadata = std::tuple<at::Tensor, at::Tensor, SymSize, at::Tensor,
                            at::Tensor, at::Tensor, at::Tensor>;

struct Documents {
  at::Tensor indices; // int64 [nnz], its own allocation
  std::vector<int64_t> lengths;
  int64_t maxLength = 0;
};

Documents maskDocuments(const at::Tensor &mask, bool strict, const char *op) {
  MaskScan scan = scanMask(mask, strict, /*wantIndices=*/true, op);
  Documents docs;
  // The scan writes into an upper bound of N entries: a view of it would
  // keep all N alive.
  docs.indices = scan.indices.numel() == mask.numel() ? scan.indices
                                                      : scan.indices.clone();
  docs.lengths = std::move(scan.lengths);
  docs.maxLength = scan.maxLength;
  return docs;
}

// cu_seqlens_from_position_ids' documents (its CPU kernel and its strict
// check), its errors named as this op's.
Documents positionDocuments(const PackingInputs &inputs, bool strict,
                            const char *op) {
  static auto cuSeqlensOp =
      findOp<std::tuple<at::Tensor, SymSize>(const at::Tensor &, bool)>(
          "packjit::cu_seqlens_from_position_ids");
  const at::Tensor &rows = inputs.positions;
  at::Tensor cu;
  SymSize longest = 0;
  try {
    std::tie(cu, longest) =
        cuSeqlensOp.call(inputs.flatPositions ? rows.squeeze(0) : rows, strict);
  } catch (const c10::Error &error) {
    TORCH_CHECK(false, op,
                inputs.multimodal ? " (text positions, row 0 of [4, B, S])"
                                  : "",
                ": ", error.what_without_backtrace());
  }
  Documents docs;
  const int32_t *boundaries = cu.data_ptr<int32_t>();
  for (int64_t d = 0; d + 1 < cu.numel(); ++d)
    docs.lengths.push_back(boundaries[d + 1] - boundaries[d]);
  docs.maxLength = concreteInt(longest);
  docs.indices = at::arange(rows.numel(), rows.options().dtype(at::kLong));
  return docs;
}

Documents documents(const PackingInputs &inputs, bool strict, const char *op) {
  Documents docs = inputs.mask.defined()
                       ? maskDocuments(inputs.mask, strict, op)
                       : positionDocuments(inputs, strict, op);
  if (strict) {
    const at::Tensor found = packingChecks(inputs);
    raiseFirstPackingViolation(inputs, found.data_ptr<int64_t>(), op);
  }
  return docs;
}

// Every field from the lengths, in one loop over the documents.
Metadata metadataOf(Documents docs, int64_t padTo, const char *op) {
  const int64_t count = static_cast<int64_t>(docs.lengths.size());
  const int64_t nnz = docs.indices.numel();
  checkPaddedTotal(nnz, count, padTo, op);
  const at::TensorOptions ints = docs.indices.options().dtype(at::kInt);
  at::Tensor cu = at::empty({count + 1}, ints);
  at::Tensor seqlens = at::empty({count}, ints);
  at::Tensor cuPadded = at::empty({count + 1}, ints);
  at::Tensor seqIdx = at::empty({nnz}, ints);
  at::Tensor positions = at::empty({nnz}, ints.dtype(at::kLong));
  int32_t *cuOut = cu.data_ptr<int32_t>();
  int32_t *lengthOut = seqlens.data_ptr<int32_t>();
  int32_t *paddedOut = cuPadded.data_ptr<int32_t>();
  int32_t *docOut = seqIdx.data_ptr<int32_t>();
  int64_t *positionOut = positions.data_ptr<int64_t>();
  int64_t total = 0, paddedTotal = 0;
  cuOut[0] = paddedOut[0] = 0;
  for (int64_t d = 0; d < count; ++d) {
    const int64_t length = docs.lengths[d];
    std::fill(docOut + total, docOut + total + length, static_cast<int32_t>(d));
    for (int64_t k = 0; k < length; ++k)
      positionOut[total + k] = k;
    total += length;
    paddedTotal += (length + padTo - 1) / padTo * padTo;
    lengthOut[d] = static_cast<int32_t>(length);
    cuOut[d + 1] = static_cast<int32_t>(total); // <= N < 2^31, checked
    paddedOut[d + 1] = static_cast<int32_t>(paddedTotal); // checkPaddedTotal
  }
  return {docs.indices, cu,        docs.maxLength, seqlens,
          seqIdx,       positions, cuPadded};
}

Metadata packingMetadata(const c10::optional<at::Tensor> &attentionMask,
                         const c10::optional<at::Tensor> &positionIds,
                         int64_t padTo, bool strict) {
  constexpr const char *op = "packjit.packing_metadata";
  const PackingInputs inputs =
      packingInputs(attentionMask, positionIds, padTo, op);
  return metadataOf(documents(inputs, strict, op), padTo, op);
}

// The fixed shapes (packjit/ops.h: PackingMetadataPadded) from the exact
// documents; a strict violation raises here, as the CPU can afford to.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
           at::Tensor, at::Tensor>
packingMetadataPadded(const c10::optional<at::Tensor> &attentionMask,
                      const c10::optional<at::Tensor> &positionIds,
                      int64_t maxDocuments, int64_t padTo, bool strict) {
  constexpr const char *op = "packjit.packing_metadata_padded";
  const PackingInputs inputs =
      packingInputs(attentionMask, positionIds, padTo, op);
  checkMaxDocuments(maxDocuments, op);
  const at::Tensor &like =
      inputs.mask.defined() ? inputs.mask : inputs.positions;
  const int64_t n = like.numel();
  const int64_t maxDocs = maxDocuments < 0 ? n : maxDocuments;
  checkPaddedTotal(n, std::min(maxDocs, n), padTo, op);
  const Documents docs = documents(inputs, strict, op);
  const int64_t count = static_cast<int64_t>(docs.lengths.size());
  const int64_t nnz = docs.indices.numel();

  at::Tensor indices = at::full({n}, -1, like.options().dtype(at::kLong));
  indices.narrow(0, 0, nnz).copy_(docs.indices);
  // Boundaries: the first min(D, M) + 1, then nnz (empty documents).
  at::Tensor cu = at::full({maxDocs + 1}, nnz, like.options().dtype(at::kInt));
  int32_t *cuOut = cu.data_ptr<int32_t>();
  int64_t total = 0;
  cuOut[0] = 0;
  for (int64_t d = 0; d < std::min(count, maxDocs); ++d) {
    total += docs.lengths[d];
    cuOut[d + 1] = static_cast<int32_t>(total);
  }
  BoundaryFields f = fieldsFromBoundaries(cu, n, padTo);
  at::Tensor summary = at::empty({5}, like.options().dtype(at::kLong));
  int64_t *s = summary.data_ptr<int64_t>();
  s[0] = nnz;
  s[1] = count;
  s[2] = docs.maxLength;
  s[3] = count > maxDocs ? 1 : 0;
  s[4] = 0;
  return {indices,           cu,     f.seqlens, f.seqIdx, f.positionIds,
          f.cuSeqlensPadded, summary};
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CPU, m) {
  m.impl("packing_metadata", &packingMetadata);
  m.impl("packing_metadata_padded", &packingMetadataPadded);
}

} // namespace packjit::ops::cpu
