// What every compile of one Pipeline shares: the MLIRContext, set up once,
// the parsed templates, and pools of pass managers and TargetMachines.
#pragma once

#include "LlvmCodegen.h"
#include "PassManagerPool.h"
#include "PassPipelines.h"
#include "TemplateCache.h"
#include "VerifiedBindings.h"

#include "mlir/IR/MLIRContext.h"

namespace packjit::pipeline {

struct PipelineState {
  // Registers everything a compile needs, before any compile runs.
  PipelineState();

  // Threading stays enabled: it also makes the context's uniquers thread-safe.
  mlir::MLIRContext context;
  TemplateCache templates;
  VerifiedBindings verified;
  PassManagerPool simplification{context, addSimplification};
  PassManagerPool lowering{context, addLowering};
  PassManagerPool loweringWithHelpers{context, addLoweringWithHelpers};
  TargetMachinePools machines;
};

} // namespace packjit::pipeline
