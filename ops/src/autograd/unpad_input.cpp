// Autograd for unpad_input / pad_input / unpad_inputs: each op's backward is
// the other, called through the dispatcher so that double backward works too.
// Row counts travel as SymSize (sym_size.h): under torch.compile these
// kernels run on fake tensors whose batch and seqlen may be symbolic.
//
// Each kernel checks its inputs (and CPU indices' range) before
// Function::apply, so that every foreseeable error raises before an autograd
// node exists: on torch 2.11 an exception thrown from inside forward()
// crashed the Python process (a CPU out-of-range index, a CUDA tensor with
// CPU indices), while the same error raised here reaches Python intact.
#include "../unpad_input.h"
#include "../sym_size.h"
#include "../unpad_input_checks.h"
#include "packjit/ops.h"

#include <torch/autograd.h>
#include <torch/library.h>

#include <algorithm>
#include <string>

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
    ctx->saved_data["batch"] = symSize(hidden, 0);
    ctx->saved_data["seqlen"] = symSize(hidden, 1);
    ctx->save_for_backward({indices});
    return out;
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    const at::Tensor indices = ctx->get_saved_variables()[0];
    return {padInputSym(grads[0], indices, toSymSize(ctx->saved_data["batch"]),
                        toSymSize(ctx->saved_data["seqlen"])),
            at::Tensor()};
  }
};

class PadInputFunction : public torch::autograd::Function<PadInputFunction> {
public:
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &x,
                            const at::Tensor &indices, SymSize batch,
                            SymSize seqlen) {
    ctx->save_for_backward({indices});
    at::AutoDispatchBelowADInplaceOrView guard;
    return padInputSym(x, indices, std::move(batch), std::move(seqlen));
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
    for (size_t i = 0; i < hidden.size(); ++i) {
      ctx->saved_data["batch" + std::to_string(i)] = symSize(hidden[i], 0);
      ctx->saved_data["seqlen" + std::to_string(i)] = symSize(hidden[i], 1);
    }
    ctx->save_for_backward({indices});
    return out;
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    const at::Tensor indices = ctx->get_saved_variables()[0];
    variable_list result;
    for (size_t i = 0; i < grads.size(); ++i)
      result.push_back(padInputSym(
          grads[i], indices,
          toSymSize(ctx->saved_data["batch" + std::to_string(i)]),
          toSymSize(ctx->saved_data["seqlen" + std::to_string(i)])));
    result.emplace_back(); // indices
    return result;
  }
};

// While tracing (fake tensors, possibly symbolic sizes) the checks are left
// to the fake kernels and, at run time, to the device kernels.
at::Tensor unpadInput(const at::Tensor &hidden, const at::Tensor &indices) {
  constexpr const char *op = "packjit.unpad_input";
  if (!hasRealData(hidden) || !hasRealData(indices))
    return UnpadInputFunction::apply(hidden, indices);
  checkUnpadInput(hidden, indices, op);
  if (indices.is_cpu())
    checkIndicesInRange(indices, hidden.size(0) * hidden.size(1), op,
                        "hidden has batch*seqlen rows");
  return UnpadInputFunction::apply(hidden, indices);
}

at::Tensor padInput(const at::Tensor &x, const at::Tensor &indices,
                    SymSize batch, SymSize seqlen) {
  constexpr const char *op = "packjit.pad_input";
  if (hasRealData(x) && hasRealData(indices)) {
    const int64_t rows = concreteInt(batch), cols = concreteInt(seqlen);
    checkPadInput(x, indices, rows, cols, op);
    if (indices.is_cpu())
      checkIndicesInRange(indices, rows * cols, op,
                          "the output has batch*seqlen rows");
  }
  return PadInputFunction::apply(x, indices, std::move(batch),
                                 std::move(seqlen));
}

std::vector<at::Tensor> unpadInputs(at::TensorList hidden,
                                    const at::Tensor &indices) {
  constexpr const char *op = "packjit.unpad_inputs";
  const bool tracing =
      !hasRealData(indices) ||
      std::any_of(hidden.begin(), hidden.end(),
                  [](const at::Tensor &h) { return !hasRealData(h); });
  if (!tracing) {
    for (const at::Tensor &h : hidden) {
      checkUnpadInput(h, indices, op);
      if (indices.is_cpu())
        checkIndicesInRange(indices, h.size(0) * h.size(1), op,
                            "hidden has batch*seqlen rows");
    }
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
