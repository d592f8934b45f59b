// The C++ API of packjit/ops.h: typed calls through the dispatcher.
#include "packjit/ops.h"

#include "sym_size.h"

#include <ATen/core/dispatch/Dispatcher.h>

#if PACKJIT_WITH_CUDA
#include "cuda/unpad_data_scan.h"
#endif

namespace packjit {
namespace {

template <typename Signature>
c10::TypedOperatorHandle<Signature> findOp(const char *name) {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow(name, "")
      .typed<Signature>();
}

} // namespace

namespace ops {

std::tuple<at::Tensor, at::Tensor, SymSize>
getUnpadDataSym(const at::Tensor &attentionMask, bool strict) {
  static auto op = findOp<std::tuple<at::Tensor, at::Tensor, SymSize>(
      const at::Tensor &, bool)>("packjit::get_unpad_data");
  return op.call(attentionMask, strict);
}

at::Tensor padInputSym(const at::Tensor &x, const at::Tensor &indices,
                       SymSize batch, SymSize seqlen) {
  static auto op = findOp<at::Tensor(const at::Tensor &, const at::Tensor &,
                                     SymSize, SymSize)>("packjit::pad_input");
  return op.call(x, indices, std::move(batch), std::move(seqlen));
}

} // namespace ops

std::tuple<at::Tensor, at::Tensor, int64_t>
get_unpad_data(const at::Tensor &attention_mask, bool strict) {
  auto [indices, cuSeqlens, longest] =
      ops::getUnpadDataSym(attention_mask, strict);
  return {indices, cuSeqlens, ops::concreteInt(longest)};
}

at::Tensor get_seqlens_in_batch(const at::Tensor &attention_mask, bool strict) {
  static auto op = findOp<at::Tensor(const at::Tensor &, bool)>(
      "packjit::get_seqlens_in_batch");
  return op.call(attention_mask, strict);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor>
get_unpad_data_padded(const at::Tensor &attention_mask, bool strict,
                      int64_t max_documents) {
  static auto op = findOp<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
      const at::Tensor &, bool, int64_t)>("packjit::get_unpad_data_padded");
  return op.call(attention_mask, strict, max_documents);
}

std::string get_unpad_data_kernel_spec(const at::Tensor &attention_mask,
                                       bool strict) {
#if PACKJIT_WITH_CUDA
  if (attention_mask.is_cuda() && attention_mask.dim() == 2) {
    ops::cuda::ScanRequest request;
    request.strict = strict;
    return ops::cuda::maskScanSpec(attention_mask, request);
  }
#endif
  (void)attention_mask;
  (void)strict;
  return "";
}

bool is_indexed_packed_mask(const c10::optional<at::Tensor> &attention_mask) {
  static auto op = findOp<bool(const c10::optional<at::Tensor> &)>(
      "packjit::is_indexed_packed_mask");
  return op.call(attention_mask);
}

std::tuple<at::Tensor, int64_t>
cu_seqlens_from_position_ids(const at::Tensor &position_ids, bool strict) {
  static auto op =
      findOp<std::tuple<at::Tensor, ops::SymSize>(const at::Tensor &, bool)>(
          "packjit::cu_seqlens_from_position_ids");
  auto [cuSeqlens, longest] = op.call(position_ids, strict);
  return {cuSeqlens, ops::concreteInt(longest)};
}

at::Tensor unpad_input(const at::Tensor &hidden, const at::Tensor &indices) {
  static auto op = findOp<at::Tensor(const at::Tensor &, const at::Tensor &)>(
      "packjit::unpad_input");
  return op.call(hidden, indices);
}

at::Tensor pad_input(const at::Tensor &x, const at::Tensor &indices,
                     int64_t batch, int64_t seqlen) {
  return ops::padInputSym(x, indices, batch, seqlen);
}

std::vector<at::Tensor> unpad_inputs(at::TensorList hidden,
                                     const at::Tensor &indices) {
  static auto op =
      findOp<std::vector<at::Tensor>(at::TensorList, const at::Tensor &)>(
          "packjit::unpad_inputs");
  return op.call(hidden, indices);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, int64_t, at::Tensor>
unpad_input_from_mask(const at::Tensor &hidden,
                      const at::Tensor &attention_mask, bool strict) {
  static auto op = findOp<
      std::tuple<at::Tensor, at::Tensor, at::Tensor, ops::SymSize, at::Tensor>(
          const at::Tensor &, const at::Tensor &, bool)>(
      "packjit::unpad_input_from_mask");
  auto [unpadded, indices, cuSeqlens, longest, used] =
      op.call(hidden, attention_mask, strict);
  return {unpadded, indices, cuSeqlens, ops::concreteInt(longest), used};
}

} // namespace packjit
