// The dialects, interfaces and translations that the kernel templates and the
// pipeline need; shared by the compiler's context and by packjit-opt.
#pragma once

#include "mlir/IR/DialectRegistry.h"

namespace packjit::pipeline {

void registerDialects(mlir::DialectRegistry &registry);

} // namespace packjit::pipeline
