// Autograd for unpad_input / pad_input / unpad_inputs. pad_input's backward
// is unpad_input (its indices are distinct); unpad_input's is an index_add
// into zeros, so that repeated indices sum their gradients. Both go through
// the dispatcher (autograd recorded), so double backward works too.
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

#include <ATen/ATen.h>
#include <torch/autograd.h>
#include <torch/library.h>

#ifdef PACKJIT_WITH_CUDA
#include "packjit/runtime/settings.h"
#endif

#include <algorithm>
#include <string>

namespace packjit::ops::autograd {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

#if TORCH_VERSION_MAJOR >= 2
using SymShape = std::vector<c10::SymInt>;
at::Tensor zerosOfShape(const SymShape &shape, const at::TensorOptions &opts) {
  return at::zeros_symint(shape, opts);
}
at::Tensor leadingRows(const at::Tensor &t, const SymSize &rows) {
  return t.narrow_symint(0, 0, rows);
}
at::Tensor reshaped(const at::Tensor &t, const SymShape &shape) {
  return t.view_symint(shape);
}
#else
using SymShape = std::vector<int64_t>;
at::Tensor zerosOfShape(const SymShape &shape, const at::TensorOptions &opts) {
  return at::zeros(shape, opts);
}
at::Tensor leadingRows(const at::Tensor &t, SymSize rows) {
  return t.narrow(0, 0, rows);
}
at::Tensor reshaped(const at::Tensor &t, const SymShape &shape) {
  return t.view(shape);
}
#endif

// unpad_input's backward: [batch, seqlen, ...] zeros with gradient row i
// added to row indices[i]. index_add, so that a repeated index sums its
// gradients as index_select's backward does (pad_input would keep one).
// Off the CPU an index out of range (unpad_input read it as zeros, and
// PACKJIT_CHECK=1 raises there) lands in one spare row that is dropped, as
// pad_input skips it: index_add would fault on the device. CPU indices were
// checked before the forward ran.
at::Tensor sumRowsIntoPadded(const at::Tensor &grad, const at::Tensor &indices,
                             const SymSize &batch, const SymSize &seqlen) {
  const SymSize rows = batch * seqlen;
  const bool spareRow = !indices.is_cpu();
  SymShape flat{spareRow ? rows + 1 : rows};
  SymShape padded{batch, seqlen};
  for (int64_t d = 1; d < grad.dim(); ++d) {
    flat.push_back(symSize(grad, d));
    padded.push_back(symSize(grad, d));
  }
  at::Tensor target = indices;
  if (spareRow)
    target = at::where(indices.ge(0).logical_and(indices.lt(at::Scalar(rows))),
                       indices, at::Scalar(rows));
  at::Tensor summed =
      zerosOfShape(flat, grad.options()).index_add(0, target, grad);
  if (spareRow)
    summed = leadingRows(summed, rows);
  return reshaped(summed, padded);
}

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
    return {sumRowsIntoPadded(grads[0], indices,
                              toSymSize(ctx->saved_data["batch"]),
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

// Backward: one sumRowsIntoPadded per input (the gradients may differ in
// shape).
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
      result.push_back(sumRowsIntoPadded(
          grads[i], indices,
          toSymSize(ctx->saved_data["batch" + std::to_string(i)]),
          toSymSize(ctx->saved_data["seqlen" + std::to_string(i)])));
    result.emplace_back(); // indices
    return result;
  }
};

// PACKJIT_CHECK=1 with indices on a GPU: the kernels find a bad index only
// while they run, so the kernel wrappers below run the checked op once
// before Function::apply, where its error reaches Python intact; a debug
// mode, so the doubled work is acceptable.
bool checkOnDeviceFirst(const at::Tensor &indices) {
#ifdef PACKJIT_WITH_CUDA
  return !indices.is_cpu() && runtime::deviceChecksFromEnvironment();
#else
  (void)indices;
  return false;
#endif
}

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
  if (checkOnDeviceFirst(indices)) {
    at::AutoDispatchBelowADInplaceOrView guard;
    packjit::unpad_input(hidden, indices);
  }
  return UnpadInputFunction::apply(hidden, indices);
}

at::Tensor padInput(const at::Tensor &x, const at::Tensor &indices,
                    SymSize batch, SymSize seqlen) {
  constexpr const char *op = "packjit.pad_input";
  if (hasRealData(x) && hasRealData(indices)) {
    const int64_t rows = concreteInt(batch), cols = concreteInt(seqlen);
    checkPadInput(x, indices, rows, cols, op);
    if (indices.is_cpu()) {
      checkIndicesInRange(indices, rows * cols, op,
                          "the output has batch*seqlen rows");
      checkIndicesDistinct(indices, rows * cols, op);
    }
    if (checkOnDeviceFirst(indices)) {
      at::AutoDispatchBelowADInplaceOrView guard;
      padInputSym(x, indices, batch, seqlen);
    }
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
    if (checkOnDeviceFirst(indices)) {
      at::AutoDispatchBelowADInplaceOrView guard;
      packjit::unpad_inputs(hidden, indices);
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
