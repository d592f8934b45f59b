// packjit-opt: runs packjit's passes (and the upstream passes its pipeline
// uses) on MLIR files, as mlir-opt does; e.g.
//   packjit-opt t.mlir -allow-unregistered-dialect
//     -packjit-specialize="constexprs=N=4 dtypes=T=f32"
#include "Dialects.h"
#include "Passes.h"

#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

namespace {

// The upstream passes of compiler/lib/PassPipelines.cpp. The conversions are
// registered from their own headers: mlir/Conversion/Passes.h would pull in
// every conversion of MLIR (so large that GCC stops tracking columns).
void registerPipelinePasses() {
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerInlinerPass();
  mlir::registerSymbolDCEPass();
  mlir::registerPass([] { return mlir::createSCFToControlFlowPass(); });
  mlir::registerPass([] { return mlir::createReconcileUnrealizedCastsPass(); });
}

} // namespace

int main(int argc, char **argv) {
  packjit::pipeline::registerPackjitPasses();
  registerPipelinePasses();
  mlir::DialectRegistry registry;
  packjit::pipeline::registerDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "packjit optimizer driver\n", registry));
}
