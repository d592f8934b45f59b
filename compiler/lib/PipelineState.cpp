#include "PipelineState.h"

#include "Diagnostics.h"
#include "Dialects.h"
#include "Passes.h"

namespace packjit::pipeline {
namespace {

// PassManager::run appends its passes' dependent dialects and dialect
// extensions to the context's registry, unguarded: the first compiles on
// several threads at once corrupted the heap (convert-gpu-to-nvvm's
// extensions). Appended here, before any compile, every run only reads it.
// Each pool's first pass manager is made here and stays in the pool.
void registerDependentDialects(PipelineState &state) {
  mlir::DialectRegistry dependent;
  for (PassManagerPool *pool :
       {&state.simplification, &state.lowering, &state.loweringWithHelpers})
    pool->getDependentDialects(dependent);
  mlir::PassManager specialize(&state.context);
  specialize.addPass(createPackjitSpecialize());
  specialize.getDependentDialects(dependent);
  state.context.appendDialectRegistry(dependent);
  for (llvm::StringRef name : dependent.getDialectNames())
    state.context.getOrLoadDialect(name);
}

} // namespace

PipelineState::PipelineState() {
  initializeNvptxTarget();
  mlir::DialectRegistry registry;
  registerDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
  registerDependentDialects(*this);
  // Placeholder types (!packjit.T) are opaque types of the unregistered
  // `packjit` dialect; the specialize pass replaces them and rejects
  // operations of unknown dialects.
  context.allowUnregisteredDialects(true);
  installDiagnosticHandler(context);
}

} // namespace packjit::pipeline
