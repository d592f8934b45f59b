#include "Stages.h"

#include "Passes.h"

#include "packjit/core/error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <array>

namespace packjit::pipeline {
namespace {

std::string printModule(const Compilation &compilation) {
  std::string text;
  llvm::raw_string_ostream os(text);
  compilation.module.get()->print(os);
  return text;
}

// template: the template's text, parsed and its helpers inlined once per
// text, cloned per compile.
mlir::LogicalResult parseTemplate(Compilation &c) {
  c.module = c.state.templates.instantiate(
      c.state.context, c.request.templateText, c.request.sourceName);
  return mlir::success(static_cast<bool>(c.module));
}

std::string printTemplate(const Compilation &c) {
  return std::string(c.request.templateText);
}

// specialized: constexprs and dtypes bound (the module is verified after
// packjit-specialize, only there, and once per template and dtypes), folded.
// The helpers were inlined in the template stage.
mlir::LogicalResult specialize(Compilation &c) {
  mlir::PassManager bind(&c.state.context);
  bind.enableVerifier(false);
  PackjitSpecializeOptions bindings;
  bindings.constexprs.assign(c.request.constexprs.begin(),
                             c.request.constexprs.end());
  bindings.dtypes.assign(c.request.dtypes.begin(), c.request.dtypes.end());
  bind.addPass(createPackjitSpecialize(bindings));
  if (mlir::failed(bind.run(*c.module)))
    return mlir::failure();
  std::string binding = VerifiedBindings::key(
      c.request.sourceName, c.request.templateText, c.request.dtypes);
  if (!c.state.verified.contains(binding)) {
    if (mlir::failed(mlir::verify(*c.module)))
      return mlir::failure();
    c.state.verified.insert(binding);
  }
  return c.state.simplification.run(*c.module, c.passTimer);
}

// The template's one gpu.module and the one kernel in it (the PTX's entry).
mlir::LogicalResult findKernel(Compilation &c) {
  auto gpuModules = c.module->getBody()->getOps<mlir::gpu::GPUModuleOp>();
  if (std::distance(gpuModules.begin(), gpuModules.end()) != 1)
    return c.module->emitError("a template must hold exactly one gpu.module");
  c.gpuModule = *gpuModules.begin();
  for (auto func : c.gpuModule.getOps<mlir::gpu::GPUFuncOp>())
    if (func.isKernel()) {
      if (!c.result.entryName.empty())
        return func.emitError()
               << "a template must hold exactly one kernel, found "
               << c.result.entryName << " and " << func.getName();
      c.result.entryName = func.getName().str();
    }
  if (c.result.entryName.empty())
    return c.gpuModule.emitError("the template's gpu.module holds no kernel");
  return mlir::success();
}

// nvvm: the gpu.module lowered to the LLVM and NVVM dialects.
mlir::LogicalResult lowerToNvvm(Compilation &c) {
  if (mlir::failed(findKernel(c)))
    return mlir::failure();
  bool helpersLeft = !c.gpuModule.getOps<mlir::func::FuncOp>().empty();
  PassManagerPool &lowering =
      helpersLeft ? c.state.loweringWithHelpers : c.state.lowering;
  if (mlir::failed(lowering.run(*c.module, c.passTimer)))
    return mlir::failure();
  // The target attribute documents the stage; the llvm and ptx stages do
  // what MLIR's serializer for it would do (chip and features come from
  // packjit's arch table, so they are valid).
  // Its O stays 3 whatever CompileOptions::optLevel says (the attribute is
  // not what runs the LLVM pipeline, and the lit tests pin it).
  mlir::MLIRContext &context = c.state.context;
  auto target = mlir::NVVM::NVVMTargetAttr::get(
      &context, /*optLevel=*/3, kNvptxTriple, llvm::StringRef(c.request.chip),
      llvm::StringRef(c.request.features));
  c.gpuModule.setTargetsAttr(mlir::ArrayAttr::get(&context, {target}));
  return mlir::success();
}

// llvm: LLVM IR -> optimized LLVM IR, driven here rather than by
// #nvvm.target's serializer, which creates a TargetMachine per compile and
// links libdevice on every compile when CUDA_HOME/CUDA_PATH is set.
mlir::LogicalResult translateToLlvm(Compilation &c) {
  c.llvmModule = mlir::translateModuleToLLVMIR(c.gpuModule, c.llvmContext);
  if (!c.llvmModule)
    return mlir::failure();
  c.machine.emplace(c.state.machines.take(c.request.chip, c.request.features));
  llvm::TargetMachine &machine = **c.machine;
  c.llvmModule->setDataLayout(machine.createDataLayout());
  c.llvmModule->setTargetTriple(machine.getTargetTriple());
  optimize(*c.llvmModule, machine, c.request.options.optLevel, c.passTimer);
  return mlir::success();
}

std::string printLlvm(const Compilation &c) {
  std::string text;
  llvm::raw_string_ostream os(text);
  c.llvmModule->print(os, nullptr);
  return text;
}

// ptx: NVPTX codegen of the optimized module.
mlir::LogicalResult generatePtx(Compilation &c) {
  c.result.ptx =
      emitPtx(*c.llvmModule, **c.machine, c.request.options.optLevel);
  return mlir::success();
}

std::string printPtx(const Compilation &c) { return c.result.ptx; }

constexpr std::array<Stage, 5> kStages{{
    {"template", parseTemplate, printTemplate},
    {"specialized", specialize, printModule},
    {"nvvm", lowerToNvvm, printModule},
    {"llvm", translateToLlvm, printLlvm},
    {"ptx", generatePtx, printPtx},
}};

} // namespace

std::span<const Stage> stages() { return kStages; }

} // namespace packjit::pipeline

namespace packjit::compiler {

const std::vector<std::string_view> &stageNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> list;
    for (const pipeline::Stage &stage : pipeline::stages())
      list.push_back(stage.name);
    return list;
  }();
  return names;
}

const std::string &CompileResult::stage(std::string_view name) const {
  for (const StageText &kept : stages)
    if (kept.name == name)
      return kept.text;
  const std::vector<std::string_view> &names = stageNames();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string known;
    for (std::string_view stage : names)
      known += (known.empty() ? "" : ", ") + std::string(stage);
    throw Error("packjit compiler: no stage '" + std::string(name) +
                "' (stages: " + known + ")");
  }
  static const std::string notKept;
  return notKept;
}

} // namespace packjit::compiler
