// packjit's passes (declared in include/packjit/compiler/Passes.td).
#pragma once

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace packjit::pipeline {

#define GEN_PASS_DECL
#include "Passes.h.inc"

} // namespace packjit::pipeline
