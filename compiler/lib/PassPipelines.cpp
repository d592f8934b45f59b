#include "PassPipelines.h"

#include "Passes.h"

#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

namespace packjit::pipeline {
namespace {

// Helpers that packjit-inline-helpers could not inline (multi-block or
// recursive ones) are inlined after the conversion: MLIR does not inline into
// a gpu.func but does into an llvm.func. No simplification inside the
// inliner: the canonicalizer after it does it once. Without such helpers
// nothing follows the conversion but reconcile-unrealized-casts: the code
// was simplified before, and LLVM cleans up what the conversion adds.
void addConversionToNvvm(mlir::PassManager &pm, bool helpersLeft) {
  mlir::OpPassManager &gpuPm = pm.nest<mlir::gpu::GPUModuleOp>();
  gpuPm.addPass(mlir::createSCFToControlFlowPass());
  gpuPm.addPass(createPackjitConvertToNvvm());
  if (helpersLeft) {
    gpuPm.addPass(mlir::createInlinerPass(
        /*opPipelines=*/{},
        /*defaultPipelineBuilder=*/[](mlir::OpPassManager &) {}));
    // The inliner leaves some fully inlined helpers behind.
    gpuPm.addPass(mlir::createSymbolDCEPass());
    gpuPm.addPass(mlir::createCanonicalizerPass());
    gpuPm.addPass(mlir::createCSEPass());
  }
  gpuPm.addPass(mlir::createReconcileUnrealizedCastsPass());
  gpuPm.addPass(createPackjitNaturalAlignment());
}

} // namespace

// The helpers were inlined in the template stage, so the canonicalizer folds
// each call site's constants (a shuffle's mode, sizeof(T), constexprs) once,
// on arith/scf, instead of LLVM folding the lowered copies.
void addSimplification(mlir::PassManager &pm) {
  // One bottom-up sweep of the worklist (folds still reach their users
  // through it) and no region simplification: the templates are structured
  // (scf) code with nothing for it to merge. On mask_scan this is 1.5 ms
  // instead of 4.6 for the same IR up to the order of constants.
  mlir::GreedyRewriteConfig config;
  config.setUseTopDownTraversal(false)
      .setRegionSimplificationLevel(mlir::GreedySimplifyRegionLevel::Disabled)
      .setMaxIterations(1);
  pm.addPass(mlir::createCanonicalizerPass(config));
  pm.addPass(mlir::createCSEPass());
}

void addLowering(mlir::PassManager &pm) { addConversionToNvvm(pm, false); }
void addLoweringWithHelpers(mlir::PassManager &pm) {
  addConversionToNvvm(pm, true);
}

} // namespace packjit::pipeline
