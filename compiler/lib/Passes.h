// packjit's passes (declared in include/packjit/compiler/Passes.td), with
// their registration for packjit-opt (registerPackjitPasses()).
#pragma once

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace packjit::pipeline {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "Passes.h.inc"

} // namespace packjit::pipeline
