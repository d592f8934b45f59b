#include "LlvmCodegen.h"

#include "packjit/core/error.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/PassInstrumentation.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetOptions.h"

namespace packjit::pipeline {
namespace {

// Configured as MLIR's serializer configures its own: default TargetOptions
// (codegen's level is set per compile).
std::unique_ptr<llvm::TargetMachine>
makeTargetMachine(const std::string &chip, const std::string &features) {
  llvm::Triple triple(kNvptxTriple);
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    throw Error("no NVPTX target in this LLVM: " + error);
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, chip, features, llvm::TargetOptions(), std::nullopt));
  if (!machine)
    throw Error("cannot create an NVPTX TargetMachine for " + chip + " " +
                features);
  return machine;
}

// -O3 and -O2 codegen wrote the same PTX for every kernel x dtype; -O2 is a
// little faster. OptLevel::Kernel leaves the optimization of the PTX to
// ptxas (the driver's JIT runs it at -O3 anyway): -O0 selects instructions
// without NVPTX's IR passes (strength reduction, reassociation, LSR, three
// EarlyCSEs) and most DAG combining, 2-3x faster; from the same IR ptxas
// gave as many or fewer registers and spills for every kernel x dtype
// (docs/compiler.md).
llvm::CodeGenOptLevel codegenLevel(compiler::OptLevel level) {
  switch (level) {
  case compiler::OptLevel::O3:
    return llvm::CodeGenOptLevel::Aggressive;
  case compiler::OptLevel::Kernel:
    return llvm::CodeGenOptLevel::None;
  default:
    return llvm::CodeGenOptLevel::Default;
  }
}

// OptLevel::Kernel: only what ptxas does not do as well on its own: CSE,
// LICM and loop rotation, full unrolling of constant-trip loops (the
// warp-shuffle scan steps, which ptxas leaves as loops), then SCCP and BDCE
// (the copy loops of gather/scatter: 32 -> 14-16 registers; with them
// IndVarSimplify, 2.5 ms on mask_scan, changed no register count and 16 of
// 2456 SASS instructions). No InstCombine (two runs were a third of the LLVM
// time; the MLIR canonicalizer folded the constants before lowering), GVN,
// partial or runtime unrolling, vectorizers, inliner (MLIR inlined every
// helper) or IPO (one kernel per module). docs/compiler.md has the measured
// registers, spills and SASS sizes against the previous pipeline.
constexpr const char *kKernelPipeline =
    "function("
    "sroa,early-cse,simplifycfg,loop-mssa(licm,loop-rotate),"
    "loop(loop-unroll-full),sccp,bdce,early-cse,simplifycfg)";

} // namespace

void initializeNvptxTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
}

Pool<llvm::TargetMachine>::Lease
TargetMachinePools::take(const std::string &chip, const std::string &features) {
  return poolFor(chip, features).take(); // a new machine is made unlocked
}

Pool<llvm::TargetMachine> &
TargetMachinePools::poolFor(const std::string &chip,
                            const std::string &features) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = pools_.find(chip + " " + features);
  if (it == pools_.end())
    it = pools_
             .emplace(std::piecewise_construct,
                      std::forward_as_tuple(chip + " " + features),
                      std::forward_as_tuple([chip, features] {
                        return makeTargetMachine(chip, features);
                      }))
             .first;
  return it->second;
}

// The LLVM IR pipeline of each level. The PassBuilder gets the
// TargetMachine, so the NVPTX cost model and NVPTX's own passes take part as
// they do in clang and MLIR's serializer.
void optimize(llvm::Module &module, llvm::TargetMachine &machine,
              compiler::OptLevel level, PassTimer *timer) {
  llvm::LoopAnalysisManager loopAnalyses;
  llvm::FunctionAnalysisManager functionAnalyses;
  llvm::CGSCCAnalysisManager cgsccAnalyses;
  llvm::ModuleAnalysisManager moduleAnalyses;
  llvm::PassInstrumentationCallbacks callbacks;
  if (timer)
    addLlvmPassTiming(callbacks, *timer);
  // The tuning MLIR's serializer uses for every level.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = true;
  tuning.LoopInterleaving = true;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder builder(&machine, tuning, std::nullopt, &callbacks);
  builder.registerModuleAnalyses(moduleAnalyses);
  builder.registerCGSCCAnalyses(cgsccAnalyses);
  builder.registerFunctionAnalyses(functionAnalyses);
  builder.registerLoopAnalyses(loopAnalyses);
  builder.crossRegisterProxies(loopAnalyses, functionAnalyses, cgsccAnalyses,
                               moduleAnalyses);
  llvm::ModulePassManager passes;
  switch (level) {
  case compiler::OptLevel::O3:
    passes = builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    break;
  case compiler::OptLevel::O2:
    passes = builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
    break;
  case compiler::OptLevel::O1:
    passes = builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O1);
    break;
  case compiler::OptLevel::Kernel:
    if (llvm::Error error = builder.parsePassPipeline(passes, kKernelPipeline))
      throw Error("the kernel pass pipeline does not parse: " +
                  llvm::toString(std::move(error)));
    break;
  }
  passes.run(module, moduleAnalyses);
}

std::string emitPtx(llvm::Module &module, llvm::TargetMachine &machine,
                    compiler::OptLevel level) {
  machine.setOptLevel(codegenLevel(level));
  std::string ptx;
  llvm::raw_string_ostream stream(ptx);
  {
    llvm::buffer_ostream buffered(stream);
    llvm::legacy::PassManager codegen;
    if (machine.addPassesToEmitFile(codegen, buffered, nullptr,
                                    llvm::CodeGenFileType::AssemblyFile))
      throw Error("the NVPTX target cannot emit assembly");
    codegen.run(module);
  }
  return ptx;
}

} // namespace packjit::pipeline
