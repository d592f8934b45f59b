// The CPU kernels of the packjit ops.
#include "../mask_checks.h"
#include "../sym_size.h"
#include "mask_scan.h"
#include "position_ids.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>

namespace packjit::ops::cpu {
namespace {

at::Tensor cumulativeLengths(const std::vector<int64_t> &lengths,
                             const at::TensorOptions &options) {
  at::Tensor cu = at::empty({static_cast<int64_t>(lengths.size()) + 1},
                            options.dtype(at::kInt));
  int32_t *out = cu.data_ptr<int32_t>();
  int64_t total = 0;
  out[0] = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    total += lengths[i];
    out[i + 1] = static_cast<int32_t>(total); // total <= numel < 2^31, checked
  }
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

} // namespace

TORCH_LIBRARY_IMPL(packjit, CPU, m) {
  m.impl("get_unpad_data", &getUnpadData);
  m.impl("get_seqlens_in_batch", &getSeqlensInBatch);
  m.impl("cu_seqlens_from_position_ids", &cuSeqlensFromPositionIds);
}

} // namespace packjit::ops::cpu
