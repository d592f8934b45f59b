// packjit-opt: runs packjit's passes (and the upstream passes its pipeline
// uses) on MLIR files, as mlir-opt does; e.g.
//   packjit-opt t.mlir -allow-unregistered-dialect
//     -packjit-specialize="constexprs=N=4 dtypes=T=f32"
#include "Dialects.h"
#include "Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

namespace {

// The upstream passes of compiler/lib/PassPipelines.cpp.
void registerPipelinePasses() {
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerInlinerPass();
  mlir::registerSymbolDCEPass();
  mlir::registerSCFToControlFlowPass();
  mlir::registerConvertGpuOpsToNVVMOps();
  mlir::registerReconcileUnrealizedCastsPass();
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
