// The pass managers of one MLIR pass pipeline, reused between compiles.
#pragma once

#include "PassTiming.h"
#include "Pool.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace packjit::pipeline {

// Pooled pass managers keep their passes' one-time setup (the canonicalizer's
// pattern sets) between compiles.
class PassManagerPool {
public:
  using AddPasses = void (*)(mlir::PassManager &);
  PassManagerPool(mlir::MLIRContext &context, AddPasses addPasses);

  // Runs the pipeline on `module`, on a pooled pass manager; with a timer, on
  // a fresh one that reports to it (instrumentation cannot be removed from a
  // pooled one).
  mlir::LogicalResult run(mlir::ModuleOp module, PassTimer *timer);
  // The pipeline's dependent dialects and dialect extensions (the pass
  // manager asked stays in the pool).
  void getDependentDialects(mlir::DialectRegistry &registry);

private:
  std::unique_ptr<mlir::PassManager> make();

  mlir::MLIRContext &context_;
  AddPasses addPasses_;
  Pool<mlir::PassManager> pool_;
};

} // namespace packjit::pipeline
