// The pipeline's stages as data, as Triton's compiler has them: a name and
// a function that makes the stage from the one before. The name is the only
// one a stage has: its timing (CompileResult::phases), its text
// (CompileResult::stages), its dump file, `packjit compile --emit` and its
// errors all use it.
#pragma once

#include "LlvmCodegen.h"
#include "PassTiming.h"
#include "Pipeline.h"
#include "PipelineState.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace packjit::pipeline {

// One compile, handed from stage to stage.
struct Compilation {
  Compilation(const PipelineRequest &request, PipelineState &state,
              compiler::CompileResult &result, PassTimer *passTimer)
      : request(request), state(state), result(result), passTimer(passTimer) {}

  const PipelineRequest &request;
  PipelineState &state;
  compiler::CompileResult &result;          // entryName (nvvm), ptx (ptx)
  PassTimer *passTimer;                     // with CompileOptions::timePasses
  mlir::OwningOpRef<mlir::ModuleOp> module; // template, specialized, nvvm
  mlir::gpu::GPUModuleOp gpuModule;         // from nvvm on
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule; // llvm
  // Taken by llvm (the module's data layout), used again by ptx.
  std::optional<Pool<llvm::TargetMachine>::Lease> machine;
};

struct Stage {
  std::string_view name;
  // Makes the stage. Fails with MLIR diagnostics, or throws packjit::Error.
  mlir::LogicalResult (*run)(Compilation &);
  // The stage's text: MLIR, LLVM IR or PTX.
  std::string (*print)(const Compilation &);
};

// In pipeline order.
std::span<const Stage> stages();

} // namespace packjit::pipeline
