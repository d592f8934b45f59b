// get_unpad_data, get_seqlens_in_batch and get_unpad_data_padded on the CPU:
// one scan of the mask each (unpad_data_scan.h). The padded variant writes
// that scan into the fixed shapes of the sync-free variant (../unpad_data.cpp,
// docs/gpu_unpad.md), so that CPU and CUDA results compare element for
// element.
#include "../sym_size.h"
#include "../unpad_data_checks.h"
#include "unpad_data_scan.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <tuple>
#include <vector>

namespace packjit::ops::cpu {
namespace {

// out[0] = 0, then the running sums of the first `count` lengths.
void writeCumulativeLengths(const std::vector<int64_t> &lengths, int64_t count,
                            int32_t *out) {
  int64_t total = 0;
  out[0] = 0;
  for (int64_t i = 0; i < count; ++i) {
    total += lengths[i];
    out[i + 1] = static_cast<int32_t>(total); // total <= numel < 2^31, checked
  }
}

at::Tensor cumulativeLengths(const std::vector<int64_t> &lengths,
                             const at::TensorOptions &options) {
  const int64_t count = static_cast<int64_t>(lengths.size());
  at::Tensor cu = at::empty({count + 1}, options.dtype(at::kInt));
  writeCumulativeLengths(lengths, count, cu.data_ptr<int32_t>());
  return cu;
}

std::tuple<at::Tensor, at::Tensor, SymSize> getUnpadData(const at::Tensor &mask,
                                                         bool strict) {
  constexpr const char *op = "packjit.get_unpad_data";
  checkAttentionMask(mask, op);
  MaskScan scan = scanMask(mask, strict, /*wantIndices=*/true, op);
  return {scan.indices, cumulativeLengths(scan.lengths, mask.options()),
          scan.maxLength};
}

at::Tensor getSeqlensInBatch(const at::Tensor &mask, bool strict) {
  constexpr const char *op = "packjit.get_seqlens_in_batch";
  checkAttentionMask(mask, op);
  MaskScan scan = scanMask(mask, strict, /*wantIndices=*/false, op);
  at::Tensor lengths = at::empty({static_cast<int64_t>(scan.lengths.size())},
                                 mask.options().dtype(at::kLong));
  std::copy(scan.lengths.begin(), scan.lengths.end(),
            lengths.data_ptr<int64_t>());
  return lengths.to(seqlensDType(mask.scalar_type()));
}

std::tuple<at::Tensor, at::Tensor, at::Tensor>
getUnpadDataPadded(const at::Tensor &mask, bool strict, int64_t maxDocuments) {
  constexpr const char *op = "packjit.get_unpad_data_padded";
  checkAttentionMask(mask, op);
  checkMaxDocuments(maxDocuments, op);
  const int64_t n = mask.numel();
  const int64_t maxDocs = maxDocuments < 0 ? n : maxDocuments;
  at::Tensor indices = at::full({n}, -1, mask.options().dtype(at::kLong));
  at::Tensor cu = at::empty({maxDocs + 1}, mask.options().dtype(at::kInt));
  at::Tensor summary = at::empty({4}, mask.options().dtype(at::kLong));
  MaskScan scan;
  if (n != 0) {
    scan = scanMask(mask, strict, /*wantIndices=*/true, op);
    indices.narrow(0, 0, scan.indices.numel()).copy_(scan.indices);
  }
  const int64_t docs = static_cast<int64_t>(scan.lengths.size());
  const int64_t nnz = scan.indices.defined() ? scan.indices.numel() : 0;
  int32_t *out = cu.data_ptr<int32_t>();
  const int64_t written = std::min(docs, maxDocs);
  writeCumulativeLengths(scan.lengths, written, out);
  // Past D (only when D < max_documents) every boundary is nnz.
  std::fill(out + written + 1, out + maxDocs + 1, static_cast<int32_t>(nnz));
  int64_t *s = summary.data_ptr<int64_t>();
  s[0] = nnz;
  s[1] = docs;
  s[2] = scan.maxLength;
  s[3] = -1;
  return {indices, cu, summary};
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CPU, m) {
  m.impl("get_unpad_data", &getUnpadData);
  m.impl("get_seqlens_in_batch", &getSeqlensInBatch);
  m.impl("get_unpad_data_padded", &getUnpadDataPadded);
}

} // namespace packjit::ops::cpu
