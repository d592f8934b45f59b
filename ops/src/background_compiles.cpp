// wait_for_background_compiles: Python's way to the runtime's
// waitForBackgroundCompiles (tiered specialization, docs/runtime.md). An op
// without tensors, so registered with its schema. Without the CUDA ops
// nothing compiles in the background, and it returns at once.
#include <torch/library.h>

#ifdef PACKJIT_WITH_CUDA
#include "packjit/runtime/background_compiles.h"
#endif

namespace packjit {
namespace {

void waitForBackgroundCompiles() {
#ifdef PACKJIT_WITH_CUDA
  runtime::waitForBackgroundCompiles();
#endif
}

} // namespace

TORCH_LIBRARY_FRAGMENT(packjit, m) {
  m.def("wait_for_background_compiles() -> ()", &waitForBackgroundCompiles);
}

} // namespace packjit
