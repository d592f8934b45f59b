// One launch of the mask_scan kernel (kernels_src/mask_scan.mlir) on
// PyTorch's current stream: the shared core of get_unpad_data,
// get_seqlens_in_batch and get_unpad_data_padded on CUDA.
#pragma once

#include "host_mailbox.h"

#include <ATen/Tensor.h>

#include <cstdint>
#include <string>

namespace packjit::ops::cuda {

// Entries of the kernel's summary (int64).
enum SummaryField : int64_t {
  kNnz = 0,
  kDocs = 1,
  kLongest = 2,
  kViolation = 3
};
constexpr int64_t kSummaryFields = 4;

// Where the results of one scan live: one allocation each from PyTorch's
// caching allocator (indices: N int64, cu_seqlens: maxDocs + 1 int32,
// summary: 4 int64), so that no two results of an op share storage (which
// torch.compile and opcheck reject). get_unpad_data's results are their
// prefixes, copied out when that frees much of the buffer (owned_prefix.h).
struct ScanBuffers {
  at::Tensor indicesBuffer;
  at::Tensor cuSeqlensBuffer;
  at::Tensor summaryBuffer;

  at::Tensor cuSeqlens(int64_t count) const {
    return cuSeqlensBuffer.narrow(0, 0, count);
  }
  int64_t *indicesData() const { return indicesBuffer.data_ptr<int64_t>(); }
  int64_t *summaryData() const { return summaryBuffer.data_ptr<int64_t>(); }
  int32_t *cuSeqlensData() const { return cuSeqlensBuffer.data_ptr<int32_t>(); }
};

struct ScanRequest {
  bool strict = true;
  // PADDED: indices[nnz:] = -1, cu_seqlens[D+1:] = nnz; maxDocs < 0 means N.
  bool padded = false;
  int64_t maxDocs = -1;
  // Without PADDED: where the kernel posts the summary for the host; the
  // caller waits for it, so it has refused a capture (checkNotCapturing).
  HostMailbox::Ticket mailbox;
};

// `mask` passed checkAttentionMask, lives on a CUDA device that is current
// (device guard) and has at least one token. Enqueues the scan; nothing
// waits for it. May be captured into a CUDA graph on any stream, with no
// warm-up there: a captured launch allocates and zeroes its own workspace
// inside the graph (unpad_data_scan.cpp).
ScanBuffers launchMaskScan(const at::Tensor &mask, const ScanRequest &request,
                           const char *op);

// The KernelSpec a scan of `mask` runs (canonical text), for `packjit demo`.
std::string maskScanSpec(const at::Tensor &mask, const ScanRequest &request);

} // namespace packjit::ops::cuda
