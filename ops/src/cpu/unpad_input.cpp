// The CPU kernels of unpad_input / pad_input / unpad_inputs: row copies with
// memcpy, rows read where they lie (strided rows need no copy first).
#include "../unpad_input_checks.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <cstring>

namespace packjit::ops::cpu {
namespace {

// Rows per parallel task: enough bytes that a task outweighs its start.
int64_t grainRows(int64_t rowBytes) {
  return std::max<int64_t>(1,
                           (int64_t{1} << 16) / std::max<int64_t>(rowBytes, 1));
}

// dst row i = src row indices[i]; `src` and `dst` are 2-D with contiguous rows.
void gatherRows(const at::Tensor &src, at::Tensor &dst,
                const int64_t *indices) {
  const int64_t rowBytes = src.size(1) * src.element_size();
  const int64_t srcStride = src.stride(0) * src.element_size();
  const int64_t dstStride = dst.stride(0) * dst.element_size();
  const auto *srcBase = static_cast<const char *>(src.data_ptr());
  auto *dstBase = static_cast<char *>(dst.data_ptr());
  at::parallel_for(0, dst.size(0), grainRows(rowBytes),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t i = begin; i < end; ++i)
                       std::memcpy(dstBase + i * dstStride,
                                   srcBase + indices[i] * srcStride, rowBytes);
                   });
}

// dst row indices[i] = src row i (the indices are distinct: checked).
void scatterRows(const at::Tensor &src, at::Tensor &dst,
                 const int64_t *indices) {
  const int64_t rowBytes = src.size(1) * src.element_size();
  const int64_t srcStride = src.stride(0) * src.element_size();
  const int64_t dstStride = dst.stride(0) * dst.element_size();
  const auto *srcBase = static_cast<const char *>(src.data_ptr());
  auto *dstBase = static_cast<char *>(dst.data_ptr());
  for (int64_t i = 0; i < src.size(0); ++i)
    std::memcpy(dstBase + indices[i] * dstStride, srcBase + i * srcStride,
                rowBytes);
}

at::Tensor unpadInputImpl(const at::Tensor &hidden, const at::Tensor &indices,
                          const char *op) {
  checkUnpadInput(hidden, indices, op);
  const int64_t rows = hidden.size(0) * hidden.size(1);
  checkIndicesInRange(indices, rows, op, "hidden has batch*seqlen rows");
  std::vector<int64_t> shape = trailingSizes(hidden, 2);
  shape.insert(shape.begin(), indices.size(0));
  at::Tensor out = at::empty(shape, hidden.options());
  if (out.numel() == 0)
    return out;
  at::Tensor src = rowsOf(hidden, 2);
  at::Tensor dst = out.view({indices.size(0), src.size(1)});
  at::Tensor index = indices.contiguous();
  gatherRows(src, dst, index.data_ptr<int64_t>());
  return out;
}

at::Tensor unpadInput(const at::Tensor &hidden, const at::Tensor &indices) {
  return unpadInputImpl(hidden, indices, "packjit.unpad_input");
}

at::Tensor padInput(const at::Tensor &x, const at::Tensor &indices,
                    int64_t batch, int64_t seqlen) {
  constexpr const char *op = "packjit.pad_input";
  checkPadInput(x, indices, batch, seqlen, op);
  checkIndicesInRange(indices, batch * seqlen, op,
                      "the output has batch*seqlen rows");
  checkIndicesDistinct(indices, batch * seqlen, op);
  std::vector<int64_t> shape = trailingSizes(x, 1);
  shape.insert(shape.begin(), {batch, seqlen});
  at::Tensor out = at::zeros(shape, x.options());
  if (x.numel() == 0)
    return out;
  at::Tensor src = rowsOf(x, 1);
  at::Tensor dst = out.view({batch * seqlen, src.size(1)});
  at::Tensor index = indices.contiguous();
  scatterRows(src, dst, index.data_ptr<int64_t>());
  return out;
}

std::vector<at::Tensor> unpadInputs(at::TensorList hidden,
                                    const at::Tensor &indices) {
  std::vector<at::Tensor> out;
  out.reserve(hidden.size());
  for (const at::Tensor &h : hidden)
    out.push_back(unpadInputImpl(h, indices, "packjit.unpad_inputs"));
  return out;
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CPU, m) {
  m.impl("unpad_input", &unpadInput);
  m.impl("pad_input", &padInput);
  m.impl("unpad_inputs", &unpadInputs);
}

} // namespace packjit::ops::cpu
