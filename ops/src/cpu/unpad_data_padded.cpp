// get_unpad_data_padded on the CPU: get_unpad_data's scan, written into the
// fixed shapes of the sync-free variant (schema.cpp, docs/gpu_unpad.md), so
// that CPU and CUDA results compare element for element.
#include "../mask_checks.h"
#include "mask_scan.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>

namespace packjit::ops::cpu {
namespace {

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
  int32_t *out = cu.data_ptr<int32_t>();
  int64_t total = 0;
  out[0] = 0;
  for (int64_t d = 0; d < std::min(docs, maxDocs); ++d) {
    total += scan.lengths[d];
    out[d + 1] = static_cast<int32_t>(total);
  }
  int64_t nnz = 0;
  for (int64_t length : scan.lengths)
    nnz += length;
  std::fill(out + std::min(docs, maxDocs) + 1, out + maxDocs + 1,
            docs <= maxDocs ? static_cast<int32_t>(nnz)
                            : out[std::min(docs, maxDocs)]);
  int64_t *s = summary.data_ptr<int64_t>();
  s[0] = nnz;
  s[1] = docs;
  s[2] = scan.maxLength;
  s[3] = -1;
  return {indices, cu, summary};
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CPU, m) {
  m.impl("get_unpad_data_padded", &getUnpadDataPadded);
}

} // namespace packjit::ops::cpu
