// unpad_input, pad_input and unpad_inputs: the gather / scatter pair of
// flash-attention's bert_padding (docs/padding.md), their schemas and their
// C++ API (packjit/ops.h). Kernels: cpu/unpad_input.cpp and
// cuda/unpad_input.cpp; autograd (each is the other's backward):
// autograd/unpad_input.cpp; checks and row geometry: unpad_input_checks.h;
// fake kernels in python/packjit/_fake.py.
#include "unpad_input.h"

#include "find_op.h"
#include "packjit/ops.h"
#include "sym_size.h"

#include <torch/library.h>

namespace packjit {

// pad_input's sizes may be symbolic while torch.compile traces: SymInt
// (sym_size.h).
TORCH_LIBRARY_FRAGMENT(packjit, m) {
  m.def("unpad_input(Tensor hidden, Tensor indices) -> Tensor");
  m.def("pad_input(Tensor x, Tensor indices, " PACKJIT_SYMINT
        " batch, " PACKJIT_SYMINT " seqlen) -> Tensor");
  m.def("unpad_inputs(Tensor[] hidden, Tensor indices) -> Tensor[]");
}

namespace ops {

at::Tensor padInputSym(const at::Tensor &x, const at::Tensor &indices,
                       SymSize batch, SymSize seqlen) {
  static auto op = findOp<at::Tensor(const at::Tensor &, const at::Tensor &,
                                     SymSize, SymSize)>("packjit::pad_input");
  return op.call(x, indices, std::move(batch), std::move(seqlen));
}

} // namespace ops

at::Tensor unpad_input(const at::Tensor &hidden, const at::Tensor &indices) {
  static auto op =
      ops::findOp<at::Tensor(const at::Tensor &, const at::Tensor &)>(
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
      ops::findOp<std::vector<at::Tensor>(at::TensorList, const at::Tensor &)>(
          "packjit::unpad_inputs");
  return op.call(hidden, indices);
}

} // namespace packjit
