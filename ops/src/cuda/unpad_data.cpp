// get_unpad_data, get_seqlens_in_batch and get_unpad_data_padded on CUDA:
// one mask_scan launch each (unpad_data_scan.h). get_unpad_data then waits
// for the 32-byte summary (nnz, D, longest, violation), which the
// kernel's last block posts into this thread's mapped pinned mailbox: one
// launch, one small device-to-host write, one wait. The padded variant waits
// for nothing, so it can be captured into a CUDA graph (the PyTorch way, on
// any stream); the other two refuse a capture before enqueuing anything.
#include "../unpad_data.h"
#include "../sym_size.h"
#include "../unpad_data_checks.h"
#include "cuda_support.h"
#include "host_mailbox.h"
#include "owned_prefix.h"
#include "unpad_data_scan.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <array>
#include <string>

namespace packjit::ops::cuda {
namespace {

// The error the CPU path raises for the first offending token: reads its
// row back to name the values.
[[noreturn]] void reportViolation(const at::Tensor &mask, int64_t position,
                                  const char *op) {
  const int64_t row = position / mask.size(1);
  const at::Tensor values =
      mask.select(0, row).to(at::kCPU, at::kLong).contiguous();
  const int64_t *data = values.data_ptr<int64_t>();
  throwStrictViolationAt(op, row, position % mask.size(1),
                         [data](int64_t s) { return data[s]; });
}

struct Scanned {
  ScanBuffers buffers;
  std::array<int64_t, kSummaryFields> summary;
};

Scanned scanAndWait(const at::Tensor &mask, bool strict, const char *op,
                    const char *instead) {
  static_assert(kSummaryFields == HostMailbox::kPayloadWords);
  // Refused before anything is enqueued or a mailbox ticket is taken, as
  // every op that waits on the host is (cuda_support.h).
  checkNotCapturing(mask, op, instead);
  HostMailbox &mailbox = withRuntimeErrors(op, [&]() -> HostMailbox & {
    return HostMailbox::forThisThread(mask.device().index());
  });
  ScanRequest request;
  request.strict = strict;
  request.mailbox = mailbox.next();
  Scanned out{launchMaskScan(mask, request, op), {}};
  withRuntimeErrors(op, [&] {
    out.summary = mailbox.wait(request.mailbox, currentStream(mask));
  });
  if (out.summary[kViolation] >= 0)
    reportViolation(mask, out.summary[kViolation], op);
  return out;
}

std::tuple<at::Tensor, at::Tensor, SymSize> getUnpadData(const at::Tensor &mask,
                                                         bool strict) {
  constexpr const char *op = "packjit.get_unpad_data";
  checkAttentionMask(mask, op);
  c10::cuda::CUDAGuard guard(mask.device());
  if (mask.numel() == 0)
    return {at::empty({0}, mask.options().dtype(at::kLong)),
            at::zeros({1}, mask.options().dtype(at::kInt)), 0};
  Scanned s = scanAndWait(
      mask, strict, op,
      "Use packjit.get_unpad_data_padded inside graphs: the same results at "
      "fixed shapes, with nnz, the document count and max_seqlen_in_batch in "
      "its summary tensor, on the device (docs/gpu_unpad.md).");
  return {ownedPrefix(s.buffers.indicesBuffer, s.summary[kNnz]),
          ownedPrefix(s.buffers.cuSeqlensBuffer, s.summary[kDocs] + 1),
          s.summary[kLongest]};
}

at::Tensor getSeqlensInBatch(const at::Tensor &mask, bool strict) {
  constexpr const char *op = "packjit.get_seqlens_in_batch";
  checkAttentionMask(mask, op);
  c10::cuda::CUDAGuard guard(mask.device());
  const at::ScalarType dtype = seqlensDType(mask.scalar_type());
  if (mask.numel() == 0)
    return at::empty({0}, mask.options().dtype(dtype));
  Scanned s = scanAndWait(
      mask, strict, op,
      "Use packjit.get_unpad_data_padded inside graphs: the lengths are "
      "cu_seqlens[1:] - cu_seqlens[:-1] of its cu_seqlens (0 past the D "
      "documents; docs/gpu_unpad.md).");
  const int64_t docs = s.summary[kDocs];
  const at::Tensor cu = s.buffers.cuSeqlens(docs + 1);
  return (cu.narrow(0, 1, docs) - cu.narrow(0, 0, docs)).to(dtype);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor>
getUnpadDataPadded(const at::Tensor &mask, bool strict, int64_t maxDocuments) {
  constexpr const char *op = "packjit.get_unpad_data_padded";
  checkAttentionMask(mask, op);
  checkMaxDocuments(maxDocuments, op);
  c10::cuda::CUDAGuard guard(mask.device());
  if (mask.numel() == 0) {
    const int64_t docs = std::max<int64_t>(maxDocuments, 0);
    at::Tensor summary =
        at::zeros({kSummaryFields}, mask.options().dtype(at::kLong));
    summary[kViolation].fill_(-1);
    return {at::empty({0}, mask.options().dtype(at::kLong)),
            at::zeros({docs + 1}, mask.options().dtype(at::kInt)), summary};
  }
  ScanRequest request;
  request.strict = strict;
  request.padded = true;
  request.maxDocs = maxDocuments;
  ScanBuffers b = launchMaskScan(mask, request, op);
  return {b.indicesBuffer, b.cuSeqlensBuffer, b.summaryBuffer};
}

} // namespace

std::string unpadDataKernelSpec(const at::Tensor &mask, bool strict) {
  ScanRequest request;
  request.strict = strict;
  return maskScanSpec(mask, request);
}

TORCH_LIBRARY_IMPL(packjit, CUDA, m) {
  m.impl("get_unpad_data", &getUnpadData);
  m.impl("get_seqlens_in_batch", &getSeqlensInBatch);
  m.impl("get_unpad_data_padded", &getUnpadDataPadded);
}

} // namespace packjit::ops::cuda
