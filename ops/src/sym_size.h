// Sizes that may be symbolic. Under torch.compile (torch >= 2) the ops'
// data-dependent sizes are SymInts: the schema says SymInt, and kernels that
// run while tracing (autograd, composites) pass sizes on as c10::SymInt
// instead of reading them as integers, which would fail (an unbacked size)
// or pin the graph to one shape. LibTorch 1.13 has no traced SymInts: plain
// integers there.
#pragma once

#include <ATen/Tensor.h>
#include <ATen/core/ivalue.h>
#include <c10/core/DispatchKey.h>
#include <torch/version.h>

#include <cstdint>

#if TORCH_VERSION_MAJOR >= 2
#include <c10/core/SymInt.h>
#define PACKJIT_SYMINT "SymInt"
#else
#define PACKJIT_SYMINT "int"
#endif

namespace packjit::ops {

#if TORCH_VERSION_MAJOR >= 2
using SymSize = c10::SymInt;
inline SymSize symSize(const at::Tensor &t, int64_t dim) {
  return t.sym_size(dim);
}
inline c10::SymIntArrayRef symSizes(const at::Tensor &t) {
  return t.sym_sizes();
}
inline SymSize toSymSize(const c10::IValue &value) { return value.toSymInt(); }
// The integer of a size computed from real data (never symbolic there).
inline int64_t concreteInt(const SymSize &size) { return size.expect_int(); }
#else
using SymSize = int64_t;
inline SymSize symSize(const at::Tensor &t, int64_t dim) { return t.size(dim); }
inline at::IntArrayRef symSizes(const at::Tensor &t) { return t.sizes(); }
inline SymSize toSymSize(const c10::IValue &value) { return value.toInt(); }
inline int64_t concreteInt(SymSize size) { return size; }
#endif

// Whether `t` holds real values here, or is a stand-in of a trace (a fake
// or functional tensor of torch.compile, a meta tensor): checks that read
// data or concrete sizes run only on the former; the real kernels run them
// at run time.
inline bool hasRealData(const at::Tensor &t) {
  return !t.is_meta() && !t.key_set().has(c10::DispatchKey::Python) &&
         !t.key_set().has(c10::DispatchKey::Functionalize);
}

} // namespace packjit::ops
