#include "Pipeline.h"

#include "Diagnostics.h"
#include "PassTiming.h"
#include "Passes.h"
#include "Pool.h"

#include "packjit/core/error.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/InlinerInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassInstrumentation.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

namespace packjit::pipeline {
namespace {

using compiler::Stage;

constexpr const char *kTriple = "nvptx64-nvidia-cuda";

void registerEverythingNeeded(mlir::DialectRegistry &registry) {
  registry.insert<mlir::arith::ArithDialect, mlir::cf::ControlFlowDialect,
                  mlir::func::FuncDialect, mlir::gpu::GPUDialect,
                  mlir::index::IndexDialect, mlir::LLVM::LLVMDialect,
                  mlir::NVVM::NVVMDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect, mlir::ub::UBDialect>();
  // Lowering of each dialect to LLVM inside convert-gpu-to-nvvm.
  mlir::arith::registerConvertArithToLLVMInterface(registry);
  mlir::cf::registerConvertControlFlowToLLVMInterface(registry);
  mlir::registerConvertFuncToLLVMInterface(registry);
  mlir::index::registerConvertIndexToLLVMInterface(registry);
  mlir::registerConvertMemRefToLLVMInterface(registry);
  mlir::registerConvertNVVMToLLVMInterface(registry);
  mlir::ub::registerConvertUBToLLVMInterface(registry);
  mlir::NVVM::registerConvertGpuToNVVMInterface(registry);
  // Inlining the templates' func.func helpers (arith, scf, gpu and memref
  // carry their inliner interfaces; these three are registered separately).
  mlir::func::registerInlinerExtension(registry);
  mlir::LLVM::registerInlinerInterface(registry);
  mlir::NVVM::registerInlinerInterface(registry);
  // LLVM IR translation.
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerGPUDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
}

std::string print(mlir::Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

[[noreturn]] void fail(std::string_view stage,
                       const DiagnosticCollector &diags) {
  throw Error("packjit compiler: " + std::string(stage) + " failed" +
              (diags.text().empty() ? std::string() : ":\n" + diags.text()));
}

// The helpers are inlined first, so the canonicalizer folds each call
// site's constants (a shuffle's mode, sizeof(T), constexprs) once, on
// arith/scf, instead of LLVM folding the lowered copies.
void addSimplification(mlir::PassManager &pm) {
  pm.addPass(createPackjitInlineHelpers());
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

// Helpers that packjit-inline-helpers could not inline (multi-block or
// recursive ones) are inlined after the conversion: MLIR does not inline into
// a gpu.func but does into an llvm.func. No simplification inside the
// inliner: the canonicalizer after it does it once. Without such helpers
// nothing follows the conversion but reconcile-unrealized-casts: the code
// was simplified before, and LLVM cleans up what the conversion adds.
void addLowering(mlir::PassManager &pm, bool helpersLeft) {
  mlir::OpPassManager &gpuPm = pm.nest<mlir::gpu::GPUModuleOp>();
  gpuPm.addPass(mlir::createSCFToControlFlowPass());
  mlir::ConvertGpuOpsToNVVMOpsOptions options;
  options.indexBitwidth = 64;
  options.useBarePtrCallConv = true;
  // One-shot conversion: no rollback bookkeeping (every pattern succeeds).
  options.allowPatternRollback = false;
  gpuPm.addPass(mlir::createConvertGpuOpsToNVVMOps(options));
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
}
void addLoweringOfKernel(mlir::PassManager &pm) { addLowering(pm, false); }
void addLoweringWithHelpers(mlir::PassManager &pm) { addLowering(pm, true); }

// Loads and stores without an alignment would get the default LLVM data
// layout's, which aligns i64 to 4 bytes and makes NVPTX split every 64-bit
// access in two. Tensors are naturally aligned for their dtype, so say so.
void setNaturalAlignment(mlir::gpu::GPUModuleOp gpuModule) {
  auto natural = [](mlir::Type type) -> uint64_t {
    if (type.isIntOrFloat())
      return std::max<uint64_t>(1, type.getIntOrFloatBitWidth() / 8);
    return llvm::isa<mlir::LLVM::LLVMPointerType>(type) ? 8 : 0;
  };
  gpuModule.walk([&](mlir::Operation *op) {
    if (auto load = llvm::dyn_cast<mlir::LLVM::LoadOp>(op)) {
      if (!load.getAlignment() || *load.getAlignment() == 0)
        if (uint64_t align = natural(load.getType()))
          load.setAlignment(align);
    } else if (auto store = llvm::dyn_cast<mlir::LLVM::StoreOp>(op)) {
      if (!store.getAlignment() || *store.getAlignment() == 0)
        if (uint64_t align = natural(store.getValue().getType()))
          store.setAlignment(align);
    }
  });
}

// Parsed templates, so a new specialization of a known template clones a
// module instead of parsing text. Clones read the cached module and never
// change it, so they run concurrently.
class TemplateCache {
public:
  // Bounded for compileText's arbitrary texts; modules in use stay alive.
  static constexpr size_t kMaxTemplates = 64;

  std::shared_ptr<mlir::OwningOpRef<mlir::ModuleOp>>
  find(const std::string &key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = modules_.find(key);
    return it == modules_.end() ? nullptr : it->second;
  }

  void insert(const std::string &key,
              std::shared_ptr<mlir::OwningOpRef<mlir::ModuleOp>> module) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (modules_.size() >= kMaxTemplates)
      modules_.clear();
    modules_.emplace(key, std::move(module));
  }

private:
  std::mutex mutex_;
  std::unordered_map<std::string,
                     std::shared_ptr<mlir::OwningOpRef<mlir::ModuleOp>>>
      modules_;
};

// Created once per (chip, features), as MLIR's serializer would on every
// compile, and configured the same way: default TargetOptions (codegen's
// level is set per compile).
std::unique_ptr<llvm::TargetMachine>
makeTargetMachine(const std::string &chip, const std::string &features) {
  llvm::Triple triple(kTriple);
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    throw Error("packjit compiler: no NVPTX target in this LLVM: " + error);
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, chip, features, llvm::TargetOptions(), std::nullopt));
  if (!machine)
    throw Error("packjit compiler: cannot create an NVPTX TargetMachine for " +
                chip + " " + features);
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
      throw Error(
          "packjit compiler: the kernel pass pipeline does not parse: " +
          llvm::toString(std::move(error)));
    break;
  }
  passes.run(module, moduleAnalyses);
}

std::string emitPTX(llvm::Module &module, llvm::TargetMachine &machine) {
  std::string ptx;
  llvm::raw_string_ostream stream(ptx);
  {
    llvm::buffer_ostream buffered(stream);
    llvm::legacy::PassManager codegen;
    if (machine.addPassesToEmitFile(codegen, buffered, nullptr,
                                    llvm::CodeGenFileType::AssemblyFile))
      throw Error("packjit compiler: the NVPTX target cannot emit assembly");
    codegen.run(module);
  }
  return ptx;
}

} // namespace

struct Pipeline::State {
  // Threading stays enabled: it also makes the context's uniquers thread-safe.
  mlir::MLIRContext context;
  TemplateCache templates;
  // Pass managers keep their passes' one-time setup (the canonicalizer's
  // pattern sets) between compiles.
  Pool<mlir::PassManager> simplifiers{
      [this] { return makePassManager(addSimplification); }};
  Pool<mlir::PassManager> lowerings{
      [this] { return makePassManager(addLoweringOfKernel); }};
  Pool<mlir::PassManager> loweringsWithHelpers{
      [this] { return makePassManager(addLoweringWithHelpers); }};

  // The module is verified once, after specialization (a template's errors
  // are reported there); the passes after it are trusted not to break it, so
  // the pass manager does not verify after each one (~8 % of a compile).
  std::unique_ptr<mlir::PassManager>
  makePassManager(void (*addPasses)(mlir::PassManager &)) {
    auto pm = std::make_unique<mlir::PassManager>(&context);
    pm->enableVerifier(false);
    addPasses(*pm);
    return pm;
  }
  // PassManager::run appends its passes' dependent dialects and dialect
  // extensions to the context's registry, unguarded: the first compiles on
  // several threads at once corrupted the heap (convert-gpu-to-nvvm's
  // extensions). Appended here, before any compile, every run only reads it.
  // Each pool's first pass manager is made here and stays in the pool.
  void registerDependentDialects() {
    mlir::DialectRegistry dependent;
    for (Pool<mlir::PassManager> *pool :
         {&simplifiers, &lowerings, &loweringsWithHelpers})
      pool->take()->getDependentDialects(dependent);
    mlir::PassManager specialize(&context);
    specialize.addPass(createPackjitSpecialize());
    specialize.getDependentDialects(dependent);
    context.appendDialectRegistry(dependent);
    for (llvm::StringRef name : dependent.getDialectNames())
      context.getOrLoadDialect(name);
  }

  std::mutex machinesMutex;
  std::map<std::string, Pool<llvm::TargetMachine>>
      machines; // by chip + features

  Pool<llvm::TargetMachine> &machinePool(const std::string &chip,
                                         const std::string &features) {
    std::lock_guard<std::mutex> lock(machinesMutex);
    auto it = machines.find(chip + " " + features);
    if (it == machines.end())
      it = machines
               .emplace(std::piecewise_construct,
                        std::forward_as_tuple(chip + " " + features),
                        std::forward_as_tuple([chip, features] {
                          return makeTargetMachine(chip, features);
                        }))
               .first;
    return it->second;
  }

  // A fresh copy of the template's module, parsed once per text.
  mlir::OwningOpRef<mlir::ModuleOp>
  instantiate(const PipelineRequest &request) {
    std::string key =
        request.sourceName + '\0' + std::string(request.templateText);
    std::shared_ptr<mlir::OwningOpRef<mlir::ModuleOp>> parsed =
        templates.find(key);
    if (!parsed) {
      // Verification waits until placeholders are bound (after specialize).
      mlir::ParserConfig config(&context, /*verifyAfterParse=*/false);
      mlir::OwningOpRef<mlir::ModuleOp> module =
          mlir::parseSourceString<mlir::ModuleOp>(
              llvm::StringRef(request.templateText.data(),
                              request.templateText.size()),
              config, request.sourceName);
      if (!module)
        return nullptr;
      parsed = std::make_shared<mlir::OwningOpRef<mlir::ModuleOp>>(
          std::move(module));
      templates.insert(key, parsed);
    }
    return mlir::OwningOpRef<mlir::ModuleOp>(
        mlir::cast<mlir::ModuleOp>((**parsed)->clone()));
  }
};

Pipeline::Pipeline() : state_(std::make_unique<State>()) {
  static std::once_flag llvmTargets;
  std::call_once(llvmTargets, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
  mlir::MLIRContext &context = state_->context;
  mlir::DialectRegistry registry;
  registerEverythingNeeded(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
  state_->registerDependentDialects();
  // Placeholder types (!packjit.T) are opaque types of the unregistered
  // `packjit` dialect; the specialize pass replaces them and rejects
  // operations of unknown dialects.
  context.allowUnregisteredDialects(true);
  installDiagnosticHandler(context);
}

Pipeline::~Pipeline() = default;

compiler::CompileResult Pipeline::run(const PipelineRequest &request) {
  mlir::MLIRContext &context = state_->context;
  compiler::CompileResult result;
  auto keep = [&](Stage stage, std::string text) {
    result.stages[static_cast<int>(stage)] = std::move(text);
  };
  DiagnosticCollector diags;
  PhaseClock clock(result.phases);
  if (request.keepStages)
    keep(Stage::Template, std::string(request.templateText));

  mlir::OwningOpRef<mlir::ModuleOp> module = state_->instantiate(request);
  if (!module)
    fail("parsing the template", diags);
  clock.mark("parse");

  mlir::PassManager specialize(&context);
  PackjitSpecializeOptions bindings;
  bindings.constexprs.assign(request.constexprs.begin(),
                             request.constexprs.end());
  bindings.dtypes.assign(request.dtypes.begin(), request.dtypes.end());
  specialize.addPass(createPackjitSpecialize(bindings));
  if (mlir::failed(specialize.run(*module)))
    fail("specialization", diags);
  clock.mark("specialize");
  // Timed compiles get fresh pass managers: instrumentation cannot be
  // removed from a pooled one.
  PassTimer passTimer;
  auto timedPassManager = [&](void (*addPasses)(mlir::PassManager &)) {
    auto pm = state_->makePassManager(addPasses);
    pm->addInstrumentation(std::make_unique<MlirPassTiming>(passTimer));
    return pm;
  };
  // Runs one phase's passes: a pooled pass manager, or a fresh timed one.
  auto runPhase = [&](Pool<mlir::PassManager> &pool,
                      void (*addPasses)(mlir::PassManager &), const char *phase,
                      std::string_view failedStage) {
    if (request.timePasses) {
      if (mlir::failed(timedPassManager(addPasses)->run(*module)))
        fail(failedStage, diags);
      passTimer.report(phase, result.passes);
      return;
    }
    auto passManager = pool.take();
    if (mlir::failed(passManager->run(*module))) {
      passManager.discard(); // its state after a failure is not trusted
      fail(failedStage, diags);
    }
  };
  runPhase(state_->simplifiers, addSimplification, "simplify",
           "specialization");
  clock.mark("simplify");
  if (request.keepStages)
    keep(Stage::Specialized, print(*module));

  auto gpuModules = module->getBody()->getOps<mlir::gpu::GPUModuleOp>();
  if (std::distance(gpuModules.begin(), gpuModules.end()) != 1)
    throw Error(
        "packjit compiler: a template must hold exactly one gpu.module");
  mlir::gpu::GPUModuleOp gpuModule = *gpuModules.begin();
  for (auto func : gpuModule.getOps<mlir::gpu::GPUFuncOp>())
    if (func.isKernel()) {
      if (!result.entryName.empty())
        throw Error("packjit compiler: a template must hold exactly one "
                    "kernel, found " +
                    result.entryName + " and " + func.getName().str());
      result.entryName = func.getName().str();
    }
  if (result.entryName.empty())
    throw Error("packjit compiler: the template's gpu.module holds no kernel");

  bool helpersLeft = !gpuModule.getOps<mlir::func::FuncOp>().empty();
  if (helpersLeft)
    runPhase(state_->loweringsWithHelpers, addLoweringWithHelpers, "lower",
             "lowering to NVVM");
  else
    runPhase(state_->lowerings, addLoweringOfKernel, "lower",
             "lowering to NVVM");
  clock.mark("lower");

  setNaturalAlignment(gpuModule);
  // The target attribute documents the stage; the code below is what
  // MLIR's serializer for it would do (chip and features come from packjit's
  // arch table, so they are valid).
  // Its O stays 3 whatever CompileOptions::optLevel says (the attribute is
  // not what runs the LLVM pipeline below, and the lit tests pin it).
  auto target = mlir::NVVM::NVVMTargetAttr::get(
      &context, /*optLevel=*/3, kTriple, llvm::StringRef(request.chip),
      llvm::StringRef(request.features));
  gpuModule.setTargetsAttr(mlir::ArrayAttr::get(&context, {target}));
  if (request.keepStages)
    keep(Stage::NVVM, print(*module));

  // LLVM IR -> optimized LLVM IR -> PTX, driven here rather than by
  // #nvvm.target's serializer, which creates a TargetMachine per compile and
  // links libdevice on every compile when CUDA_HOME/CUDA_PATH is set.
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(gpuModule, llvmContext);
  if (!llvmModule)
    fail("translating to LLVM IR", diags);
  auto machine = state_->machinePool(request.chip, request.features).take();
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(machine->getTargetTriple());
  clock.mark("translate");
  optimize(*llvmModule, *machine, request.optLevel,
           request.timePasses ? &passTimer : nullptr);
  if (request.timePasses)
    passTimer.report("optimize", result.passes);
  clock.mark("optimize");
  if (request.keepStages) {
    std::string llvmText;
    llvm::raw_string_ostream os(llvmText);
    llvmModule->print(os, nullptr);
    keep(Stage::LLVM, std::move(llvmText));
  }
  machine->setOptLevel(codegenLevel(request.optLevel));
  result.ptx = emitPTX(*llvmModule, *machine);
  clock.mark("codegen");
  if (request.keepStages)
    keep(Stage::PTX, result.ptx);
  return result;
}

} // namespace packjit::pipeline
