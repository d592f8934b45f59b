// packing_metadata and packing_metadata_padded on CUDA. One scan: a mask
// through mask_scan (launchMaskScan, unpad_data_scan.h), position ids
// through the cu_seqlens_from_position_ids kernels; the eager op then waits
// once (the scan's host mailbox: nnz, D, longest) and derives seqlens,
// seq_idx, position_ids and cu_seqlens_padded on the device from the
// boundaries, with no further wait (../packing_metadata_fields.h). The
// strict checks beyond the scans' run on the device too; their results are
// copied into the host mailbox's side words ahead of the scan on the same
// stream, so the one wait covers them. The padded variant waits for nothing. A
// fused kernel that writes every field in the scan itself is a later step
// (docs/ops.md).
#include "../find_op.h"
#include "../packing_metadata_checks.h"
#include "../packing_metadata_fields.h"
#include "../sym_size.h"
#include "../unpad_data_checks.h"
#include "cuda_support.h"
#include "host_mailbox.h"
#include "unpad_data_scan.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <optional>
#include <tuple>

namespace packjit::ops::cuda {
namespace {

using Metadata = std::tuple<at::Tensor, at::Tensor, SymSize, at::Tensor,
                            at::Tensor, at::Tensor, at::Tensor>;
using PaddedMetadata =
    std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor,
               at::Tensor, at::Tensor>;

constexpr const char *kInGraphs =
    "Use packjit.packing_metadata_padded inside graphs: the same fields at "
    "fixed shapes, with nnz, the document count and max_seqlen in its summary "
    "tensor, on the device.";

// The first `count` elements of a 1-D buffer in an allocation of their own.
at::Tensor exactPrefix(const at::Tensor &buffer, int64_t count) {
  const bool owns = buffer.numel() == count &&
                    buffer.storage().nbytes() ==
                        static_cast<size_t>(count * buffer.element_size());
  return owns ? buffer : buffer.narrow(0, 0, count).clone();
}

// The strict checks' results on their way to the host: copied into this
// thread's mailbox side words ahead of the scan on the current stream, so
// the scan's one wait covers them (no pinned tensor, no event).
class PendingChecks {
public:
  PendingChecks(const PackingInputs &inputs, const at::Tensor &like,
                const char *op)
      : mailbox_(withRuntimeErrors(op, [&]() -> HostMailbox & {
          return HostMailbox::forThisThread(like.device().index());
        })) {
    const at::Tensor found = packingChecks(inputs).contiguous();
    TORCH_INTERNAL_ASSERT(found.numel() == HostMailbox::kSideWords);
    withRuntimeErrors(op, [&] {
      mailbox_.copySideWords(reinterpret_cast<CUdeviceptr>(found.data_ptr()),
                             currentStream(like));
    });
  }

  // After the scan's wait.
  void raise(const PackingInputs &inputs, const char *op) const {
    const auto found = mailbox_.sideWords();
    raiseFirstPackingViolation(inputs, found.data(), op);
  }

private:
  HostMailbox &mailbox_;
};

[[noreturn]] void reportMaskViolation(const at::Tensor &mask, int64_t position,
                                      const char *op) {
  const int64_t row = position / mask.size(1);
  const at::Tensor values =
      mask.select(0, row).to(at::kCPU, at::kLong).contiguous();
  const int64_t *data = values.data_ptr<int64_t>();
  throwStrictViolationAt(op, row, position % mask.size(1),
                         [data](int64_t s) { return data[s]; });
}

struct Boundaries {
  at::Tensor indices; // int64 [nnz], its own allocation
  at::Tensor cu;      // int32 [D+1], its own allocation
  int64_t longest = 0;
};

Boundaries scanMask(const PackingInputs &inputs, bool strict, const char *op) {
  const at::Tensor &mask = inputs.mask;
  HostMailbox &mailbox = withRuntimeErrors(op, [&]() -> HostMailbox & {
    return HostMailbox::forThisThread(mask.device().index());
  });
  ScanRequest request;
  request.strict = strict;
  request.mailbox = mailbox.next();
  const ScanBuffers buffers = launchMaskScan(mask, request, op);
  const auto summary = withRuntimeErrors(
      op, [&] { return mailbox.wait(request.mailbox, currentStream(mask)); });
  if (summary[kViolation] >= 0)
    reportMaskViolation(mask, summary[kViolation], op);
  return {exactPrefix(buffers.indicesBuffer, summary[kNnz]),
          exactPrefix(buffers.cuSeqlensBuffer, summary[kDocs] + 1),
          summary[kLongest]};
}

// cu_seqlens_from_position_ids' CUDA kernel (one launch, one wait on its
// mailbox), its errors named as this op's.
template <typename Result, typename... Args>
Result positionIdsOp(const char *name, const PackingInputs &inputs,
                     const char *op, Args... args) {
  static auto handle = findOp<Result(const at::Tensor &, Args...)>(name);
  try {
    return handle.call(inputs.flatPositions ? inputs.positions.squeeze(0)
                                            : inputs.positions,
                       args...);
  } catch (const c10::Error &error) {
    TORCH_CHECK(false, op,
                inputs.multimodal ? " (text positions, row 0 of [4, B, S])"
                                  : "",
                ": ", error.what_without_backtrace());
  }
}

Boundaries scanPositions(const PackingInputs &inputs, bool strict,
                         const char *op) {
  auto [cu, longest] = positionIdsOp<std::tuple<at::Tensor, SymSize>>(
      "packjit::cu_seqlens_from_position_ids", inputs, op, strict);
  const at::Tensor &rows = inputs.positions;
  return {at::arange(rows.numel(), rows.options().dtype(at::kLong)),
          exactPrefix(cu, cu.numel()), concreteInt(longest)};
}

Metadata packingMetadata(const c10::optional<at::Tensor> &attentionMask,
                         const c10::optional<at::Tensor> &positionIds,
                         int64_t padTo, bool strict) {
  constexpr const char *op = "packjit.packing_metadata";
  const PackingInputs inputs =
      packingInputs(attentionMask, positionIds, padTo, op);
  const at::Tensor &like =
      inputs.mask.defined() ? inputs.mask : inputs.positions;
  c10::cuda::CUDAGuard guard(like.device());
  checkNotCapturing(like, op, kInGraphs);
  Boundaries b;
  if (like.numel() == 0) {
    b.indices = at::empty({0}, like.options().dtype(at::kLong));
    b.cu = at::zeros({1}, like.options().dtype(at::kInt));
  } else {
    std::optional<PendingChecks> checks;
    if (strict)
      checks.emplace(inputs, like, op);
    b = inputs.mask.defined() ? scanMask(inputs, strict, op)
                              : scanPositions(inputs, strict, op);
    if (checks)
      checks->raise(inputs, op);
  }
  const int64_t nnz = b.indices.numel(), docs = b.cu.numel() - 1;
  checkPaddedTotal(nnz, docs, padTo, op);
  BoundaryFields f = fieldsFromBoundaries(b.cu, nnz, padTo);
  return {b.indices, b.cu,          b.longest,        f.seqlens,
          f.seqIdx,  f.positionIds, f.cuSeqlensPadded};
}

PaddedMetadata
packingMetadataPadded(const c10::optional<at::Tensor> &attentionMask,
                      const c10::optional<at::Tensor> &positionIds,
                      int64_t maxDocuments, int64_t padTo, bool strict) {
  constexpr const char *op = "packjit.packing_metadata_padded";
  const PackingInputs inputs =
      packingInputs(attentionMask, positionIds, padTo, op);
  checkMaxDocuments(maxDocuments, op);
  const bool hasMask = inputs.mask.defined();
  const at::Tensor &like = hasMask ? inputs.mask : inputs.positions;
  c10::cuda::CUDAGuard guard(like.device());
  const int64_t n = like.numel();
  const int64_t maxDocs = maxDocuments < 0 ? n : maxDocuments;
  checkPaddedTotal(n, std::min(maxDocs, n), padTo, op);
  const at::TensorOptions longs = like.options().dtype(at::kLong);

  at::Tensor indices, cu, scanSummary, violation;
  if (n == 0) {
    indices = at::empty({0}, longs);
    cu = at::zeros({maxDocs + 1}, longs.dtype(at::kInt));
    scanSummary = at::zeros({4}, longs);
    violation = at::zeros({1}, longs);
  } else if (hasMask) {
    ScanRequest request;
    request.strict = strict;
    request.padded = true;
    request.maxDocs = maxDocs;
    const ScanBuffers buffers = launchMaskScan(inputs.mask, request, op);
    indices = buffers.indicesBuffer;
    cu = buffers.cuSeqlensBuffer;
    scanSummary = buffers.summaryBuffer;
    violation = scanSummary.narrow(0, kViolation, 1).ge(0);
  } else {
    std::tie(cu, scanSummary) =
        positionIdsOp<std::tuple<at::Tensor, at::Tensor>>(
            "packjit::cu_seqlens_from_position_ids_padded", inputs, op, strict,
            maxDocs);
    indices = at::arange(n, longs);
    violation = scanSummary.narrow(0, 3, 1).ne(0);
  }
  if (strict && n != 0) {
    // Each check's "none" is B, B, N (packing_metadata_checks.h).
    const at::Tensor found = packingChecks(inputs);
    const at::Tensor failed = found.narrow(0, 0, 2)
                                  .lt(like.size(0))
                                  .any()
                                  .logical_or(found.narrow(0, 2, 1).lt(n));
    violation = violation.logical_or(failed);
  }
  const at::Tensor docs = scanSummary.narrow(0, kDocs, 1);
  const at::Tensor summary =
      at::cat({scanSummary.narrow(0, 0, 3), docs.gt(maxDocs).to(at::kLong),
               violation.to(at::kLong).reshape({1})});
  BoundaryFields f = fieldsFromBoundaries(cu, n, padTo);
  return {indices,           cu,     f.seqlens, f.seqIdx, f.positionIds,
          f.cuSeqlensPadded, summary};
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CUDA, m) {
  m.impl("packing_metadata", &packingMetadata);
  m.impl("packing_metadata_padded", &packingMetadataPadded);
}

} // namespace packjit::ops::cuda
