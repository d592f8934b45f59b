#include "Pipeline.h"

#include "Diagnostics.h"
#include "Passes.h"

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
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/CompilationInterfaces.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

namespace packjit::pipeline {
namespace {

using compiler::Stage;

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
  // LLVM IR translation and the #nvvm.target serializer.
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerGPUDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}

std::string print(mlir::Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

[[noreturn]] void fail(std::string_view stage, const DiagnosticCollector &diags) {
  throw Error("packjit compiler: " + std::string(stage) + " failed" +
              (diags.text().empty() ? std::string() : ":\n" + diags.text()));
}

void addLowering(mlir::PassManager &pm) {
  mlir::OpPassManager &gpuPm = pm.nest<mlir::gpu::GPUModuleOp>();
  gpuPm.addPass(mlir::createSCFToControlFlowPass());
  mlir::ConvertGpuOpsToNVVMOpsOptions options;
  options.indexBitwidth = 64;
  options.useBarePtrCallConv = true;
  gpuPm.addPass(mlir::createConvertGpuOpsToNVVMOps(options));
  gpuPm.addPass(mlir::createCanonicalizerPass());
  gpuPm.addPass(mlir::createCSEPass());
  gpuPm.addPass(mlir::createReconcileUnrealizedCastsPass());
}

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

} // namespace

struct Pipeline::State {
  // Threading stays enabled: it also makes the context's uniquers thread-safe.
  mlir::MLIRContext context;
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
  if (request.keepStages)
    keep(Stage::Template, std::string(request.templateText));

  // Verification waits until placeholders are bound (after specialize).
  mlir::ParserConfig config(&context, /*verifyAfterParse=*/false);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::parseSourceString<mlir::ModuleOp>(
      llvm::StringRef(request.templateText.data(), request.templateText.size()),
      config, request.sourceName);
  if (!module)
    fail("parsing the template", diags);

  mlir::PassManager specialize(&context);
  PackjitSpecializeOptions bindings;
  bindings.constexprs.assign(request.constexprs.begin(), request.constexprs.end());
  bindings.dtypes.assign(request.dtypes.begin(), request.dtypes.end());
  specialize.addPass(createPackjitSpecialize(bindings));
  specialize.addPass(mlir::createCanonicalizerPass());
  specialize.addPass(mlir::createCSEPass());
  if (mlir::failed(specialize.run(*module)))
    fail("specialization", diags);
  if (request.keepStages)
    keep(Stage::Specialized, print(*module));

  auto gpuModules = module->getBody()->getOps<mlir::gpu::GPUModuleOp>();
  if (std::distance(gpuModules.begin(), gpuModules.end()) != 1)
    throw Error("packjit compiler: a template must hold exactly one gpu.module");
  mlir::gpu::GPUModuleOp gpuModule = *gpuModules.begin();
  for (auto func : gpuModule.getOps<mlir::gpu::GPUFuncOp>())
    if (func.isKernel()) {
      if (!result.entryName.empty())
        throw Error("packjit compiler: a template must hold exactly one kernel, found " +
                    result.entryName + " and " + func.getName().str());
      result.entryName = func.getName().str();
    }
  if (result.entryName.empty())
    throw Error("packjit compiler: the template's gpu.module holds no kernel");

  mlir::PassManager lower(&context);
  addLowering(lower);
  if (mlir::failed(lower.run(*module)))
    fail("lowering to NVVM", diags);

  setNaturalAlignment(gpuModule);
  // chip and features come from packjit's arch table, so they are valid.
  auto target = mlir::NVVM::NVVMTargetAttr::get(&context, /*optLevel=*/3,
      "nvptx64-nvidia-cuda", llvm::StringRef(request.chip),
      llvm::StringRef(request.features));
  gpuModule.setTargetsAttr(mlir::ArrayAttr::get(&context, {target}));
  if (request.keepStages)
    keep(Stage::NVVM, print(*module));

  std::string llvmText;
  auto captureLLVM = [&](llvm::Module &llvmModule) {
    llvm::raw_string_ostream os(llvmText);
    llvmModule.print(os, nullptr);
  };
  llvm::function_ref<void(llvm::Module &)> llvmCallback;
  if (request.keepStages)
    llvmCallback = captureLLVM;
  mlir::gpu::TargetOptions options(
      /*toolkitPath=*/{}, /*librariesToLink=*/{}, /*cmdOptions=*/{},
      /*elfSection=*/{}, mlir::gpu::CompilationTarget::Assembly,
      /*getSymbolTableCallback=*/{}, /*initialLlvmIRCallback=*/{},
      /*linkedLlvmIRCallback=*/{}, /*optimizedLlvmIRCallback=*/llvmCallback);
  auto targetInterface = llvm::cast<mlir::gpu::TargetAttrInterface>(target);
  std::optional<llvm::SmallVector<char, 0>> ptx =
      targetInterface.serializeToObject(gpuModule, options);
  if (!ptx)
    fail("generating PTX", diags);
  result.ptx.assign(ptx->begin(), ptx->end());
  while (!result.ptx.empty() && result.ptx.back() == '\0')
    result.ptx.pop_back();
  if (request.keepStages) {
    keep(Stage::LLVM, std::move(llvmText));
    keep(Stage::PTX, result.ptx);
  }
  return result;
}

} // namespace packjit::pipeline
