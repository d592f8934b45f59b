// The typed dispatcher handle of a packjit op, for the C++ API of
// packjit/ops.h: each op's wrapper (in ops/src/<op>.cpp) calls through the
// dispatcher, as torch.ops.packjit.* does from Python.
#pragma once

#include <ATen/core/dispatch/Dispatcher.h>

namespace packjit::ops {

// `name` is "packjit::<op>"; look it up once (a function-local static).
template <typename Signature>
c10::TypedOperatorHandle<Signature> findOp(const char *name) {
  return c10::Dispatcher::singleton()
      .findSchemaOrThrow(name, "")
      .typed<Signature>();
}

} // namespace packjit::ops
