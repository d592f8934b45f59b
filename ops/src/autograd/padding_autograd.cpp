// Autograd for unpad_input / pad_input / unpad_inputs: each op's backward is
// the other, called through the dispatcher so that double backward works too.
//
// Each kernel checks its inputs (and CPU indices' range) before
// Function::apply, so that every foreseeable error raises before an autograd
// node exists: on torch 2.11 an exception thrown from inside forward()
// crashed the Python process (a CPU out-of-range index, a CUDA tensor with
// CPU indices), while the same error raised here reaches Python intact.
#include "../cpu/padding_checks.h"
#include "packjit/ops.h"

#include <torch/autograd.h>
#include <torch/library.h>

namespace packjit::ops::autograd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class UnpadInputFunction
    : public torch::autograd::Function<UnpadInputFunction> {
public:
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &hidden,
                            const at::Tensor &indices) {
    at::Tensor out;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      out =
          packjit::unpad_input(hidden, indices); // checks hidden is [B, S, ...]
    }
    ctx->saved_data["batch"] = hidden.size(0);
    ctx->saved_data["seqlen"] = hidden.size(1);
    ctx->save_for_backward({indices});
    return out;
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    const at::Tensor indices = ctx->get_saved_variables()[0];
    return {packjit::pad_input(grads[0], indices,
                               ctx->saved_data["batch"].toInt(),
                               ctx->saved_data["seqlen"].toInt()),
            at::Tensor()};
  }
};

class PadInputFunction : public torch::autograd::Function<PadInputFunction> {
public:
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x,
                            const at::Tensor &indices, int64_t batch,
                            int64_t seqlen) {
    ctx->save_for_backward({indices});
    at::AutoDispatchBelowADInplaceOrView guard;
    return packjit::pad_input(x, indices, batch, seqlen);
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    const at::Tensor indices = ctx->get_saved_variables()[0];
    return {packjit::unpad_input(grads[0], indices), at::Tensor(), at::Tensor(),
            at::Tensor()};
  }
};

// Backward: one pad_input per input (the gradients may differ in shape).
class UnpadInputsFunction
    : public torch::autograd::Function<UnpadInputsFunction> {
public:
  static variable_list forward(AutogradContext *ctx, at::TensorList hidden,
                               const at::Tensor &indices) {
    variable_list out;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      out =
          packjit::unpad_inputs(hidden, indices); // checks each is [B, S, ...]
    }
    std::vector<int64_t> batch, seqlen;
    for (const at::Tensor &h : hidden) {
      batch.push_back(h.size(0));
      seqlen.push_back(h.size(1));
    }
    ctx->saved_data["batch"] = batch;
    ctx->saved_data["seqlen"] = seqlen;
    ctx->save_for_backward({indices});
    return out;
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    const at::Tensor indices = ctx->get_saved_variables()[0];
    const std::vector<int64_t> batch = ctx->saved_data["batch"].toIntVector();
    const std::vector<int64_t> seqlen = ctx->saved_data["seqlen"].toIntVector();
    variable_list result;
    for (size_t i = 0; i < grads.size(); ++i)
      result.push_back(
          packjit::pad_input(grads[i], indices, batch[i], seqlen[i]));
    result.emplace_back(); // indices
    return result;
  }
};

at::Tensor unpadInput(const at::Tensor &hidden, const at::Tensor &indices) {
  constexpr const char *op = "packjit.unpad_input";
  checkUnpadInput(hidden, indices, op);
  if (indices.is_cpu())
    checkIndicesInRange(indices, hidden.size(0) * hidden.size(1), op,
                        "hidden has batch*seqlen rows");
  return UnpadInputFunction::apply(hidden, indices);
}

at::Tensor padInput(const at::Tensor &x, const at::Tensor &indices,
                    int64_t batch, int64_t seqlen) {
  constexpr const char *op = "packjit.pad_input";
  checkPadInput(x, indices, batch, seqlen, op);
  if (indices.is_cpu())
    checkIndicesInRange(indices, batch * seqlen, op,
                        "the output has batch*seqlen rows");
  return PadInputFunction::apply(x, indices, batch, seqlen);
}

std::vector<at::Tensor> unpadInputs(at::TensorList hidden,
                                    const at::Tensor &indices) {
  constexpr const char *op = "packjit.unpad_inputs";
  for (const at::Tensor &h : hidden) {
    checkUnpadInput(h, indices, op);
    if (indices.is_cpu())
      checkIndicesInRange(indices, h.size(0) * h.size(1), op,
                          "hidden has batch*seqlen rows");
  }
  return UnpadInputsFunction::apply(hidden, indices);
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, Autograd, m) {
  m.impl("unpad_input", &unpadInput);
  m.impl("pad_input", &padInput);
  m.impl("unpad_inputs", &unpadInputs);
}

} // namespace packjit::ops::autograd
