#include "packing_metadata_fields.h"

#include <ATen/ATen.h>

namespace packjit::ops {

BoundaryFields fieldsFromBoundaries(const at::Tensor &cuSeqlens, int64_t tokens,
                                    int64_t padTo) {
  const int64_t docs = cuSeqlens.numel() - 1;
  const at::Tensor starts = cuSeqlens.narrow(0, 0, docs);
  const at::Tensor ends = cuSeqlens.narrow(0, 1, docs);
  BoundaryFields f;
  f.seqlens = ends - starts;
  // Each token's document by binary search: no size to wait for (the
  // repeat_interleave of the lengths would need output_size and a scan).
  const at::Tensor token = at::arange(tokens, cuSeqlens.options());
  f.seqIdx = at::searchsorted(ends, token, /*out_int32=*/true, /*right=*/true);
  f.positionIds = (token - cuSeqlens.index_select(0, f.seqIdx)).to(at::kLong);
  const at::Tensor wide = f.seqlens.to(at::kLong);
  const at::Tensor rounded = (wide + (padTo - 1)).div(padTo, "floor") * padTo;
  f.cuSeqlensPadded = at::cat(
      {at::zeros({1}, cuSeqlens.options()), rounded.cumsum(0).to(at::kInt)});
  return f;
}

} // namespace packjit::ops
