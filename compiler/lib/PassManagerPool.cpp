#include "PassManagerPool.h"

namespace packjit::pipeline {

PassManagerPool::PassManagerPool(mlir::MLIRContext &context,
                                 AddPasses addPasses)
    : context_(context), addPasses_(addPasses),
      pool_([this] { return make(); }) {}

// The module is verified once, after specialization (a template's errors
// are reported there); the passes after it are trusted not to break it, so
// the pass manager does not verify after each one (~8 % of a compile).
std::unique_ptr<mlir::PassManager> PassManagerPool::make() {
  auto pm = std::make_unique<mlir::PassManager>(&context_);
  pm->enableVerifier(false);
  addPasses_(*pm);
  return pm;
}

mlir::LogicalResult PassManagerPool::run(mlir::ModuleOp module,
                                         PassTimer *timer) {
  if (timer) {
    std::unique_ptr<mlir::PassManager> pm = make();
    pm->addInstrumentation(std::make_unique<MlirPassTiming>(*timer));
    return pm->run(module);
  }
  auto pm = pool_.take();
  if (mlir::failed(pm->run(module))) {
    pm.discard(); // its state after a failure is not trusted
    return mlir::failure();
  }
  return mlir::success();
}

void PassManagerPool::getDependentDialects(mlir::DialectRegistry &registry) {
  pool_.take()->getDependentDialects(registry);
}

} // namespace packjit::pipeline
