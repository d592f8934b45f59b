// The packjit-specialize pass: binds constexpr arguments to constants and
// dtype placeholders (!packjit.NAME) to concrete types.
#include "Passes.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/StringMap.h"

#include <algorithm>

namespace packjit::pipeline {

#define GEN_PASS_DEF_PACKJITSPECIALIZE
#include "Passes.h.inc"

namespace {

constexpr llvm::StringLiteral kConstexprAttr = "packjit.constexpr";
constexpr llvm::StringLiteral kBlockAttr = "packjit.block";
// Threads per SM the kernel is tuned for: becomes nvvm.minctasm (blocks per
// SM, so ptxas caps the registers) once BLOCK is known.
constexpr llvm::StringLiteral kThreadsPerSMAttr = "packjit.threads_per_sm";
constexpr llvm::StringLiteral kPlaceholderDialect = "packjit";

class Specialize : public impl::PackjitSpecializeBase<Specialize> {
public:
  using PackjitSpecializeBase::PackjitSpecializeBase;

  void runOnOperation() override {
    mlir::ModuleOp module = getOperation();
    if (mlir::failed(parseBindings(module)) ||
        mlir::failed(checkDialects(module)))
      return signalPassFailure();
    bool failed = false;
    module.walk([&](mlir::FunctionOpInterface func) {
      if (mlir::failed(bindConstexprs(func)) ||
          mlir::failed(bindBlockSize(func)))
        failed = true;
    });
    if (failed || mlir::failed(bindDTypes(module)))
      return signalPassFailure();
  }

private:
  llvm::StringMap<int64_t> constexprValues;
  llvm::StringMap<mlir::Type> dtypeValues;

  mlir::LogicalResult parseBindings(mlir::ModuleOp module) {
    for (const std::string &binding : constexprs) {
      auto [name, text] = llvm::StringRef(binding).split('=');
      int64_t value = 0;
      if (text.getAsInteger(10, value))
        return module.emitError()
               << "packjit-specialize: malformed constexpr binding '" << binding
               << "' (expected NAME=INTEGER)";
      constexprValues[name] = value;
    }
    for (const std::string &binding : dtypes) {
      auto [name, text] = llvm::StringRef(binding).split('=');
      mlir::Type type = mlir::parseType(text, module.getContext());
      if (!type)
        return module.emitError()
               << "packjit-specialize: malformed dtype binding '" << binding
               << "' (expected NAME=TYPE)";
      dtypeValues[name] = type;
    }
    return mlir::success();
  }

  // Templates parse with unregistered dialects allowed (for the placeholder
  // types), so a misspelt op would otherwise survive until lowering.
  mlir::LogicalResult checkDialects(mlir::ModuleOp module) {
    mlir::WalkResult result = module.walk([](mlir::Operation *op) {
      if (op->getDialect())
        return mlir::WalkResult::advance();
      op->emitError() << "unknown operation '" << op->getName()
                      << "' (its dialect is not registered with packjit)";
      return mlir::WalkResult::interrupt();
    });
    return mlir::failure(result.wasInterrupted());
  }

  mlir::LogicalResult bindConstexprs(mlir::FunctionOpInterface func) {
    if (func.isExternal())
      return mlir::success();
    mlir::Block &entry = func.getFunctionBody().front();
    mlir::OpBuilder builder(&entry, entry.begin());
    llvm::BitVector erase(func.getNumArguments());
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto name = func.getArgAttrOfType<mlir::StringAttr>(i, kConstexprAttr);
      if (!name)
        continue;
      auto it = constexprValues.find(name.getValue());
      if (it == constexprValues.end())
        return func.emitError() << "constexpr '" << name.getValue()
                                << "' (argument " << i << ") has no value";
      mlir::BlockArgument arg = func.getArgument(i);
      mlir::Type type = arg.getType();
      if (!type.isSignlessInteger() && !type.isIndex())
        return func.emitError()
               << "constexpr '" << name.getValue()
               << "' must be a signless integer or index, got " << type;
      auto constant = mlir::arith::ConstantOp::create(
          builder, arg.getLoc(), type,
          builder.getIntegerAttr(type, it->second));
      arg.replaceAllUsesWith(constant);
      erase.set(i);
    }
    return func.eraseArguments(erase);
  }

  mlir::LogicalResult bindBlockSize(mlir::FunctionOpInterface func) {
    auto name = func->getAttrOfType<mlir::StringAttr>(kBlockAttr);
    if (!name) {
      if (func->hasAttr(kThreadsPerSMAttr))
        return func.emitError() << kThreadsPerSMAttr << " needs " << kBlockAttr;
      return mlir::success();
    }
    auto it = constexprValues.find(name.getValue());
    auto gpuFunc = llvm::dyn_cast<mlir::gpu::GPUFuncOp>(func.getOperation());
    if (it == constexprValues.end() || !gpuFunc)
      return func.emitError() << kBlockAttr << " names '" << name.getValue()
                              << "', which is not a constexpr of a gpu.func";
    int64_t block = it->second;
    gpuFunc.setKnownBlockSizeAttr(mlir::DenseI32ArrayAttr::get(
        func.getContext(), {static_cast<int32_t>(block), 1, 1}));
    func->removeAttr(kBlockAttr);
    if (auto threads =
            func->getAttrOfType<mlir::IntegerAttr>(kThreadsPerSMAttr)) {
      int64_t blocks = std::max<int64_t>(1, threads.getInt() / block);
      func->setAttr("nvvm.minctasm",
                    mlir::Builder(func.getContext())
                        .getI32IntegerAttr(static_cast<int32_t>(blocks)));
      func->removeAttr(kThreadsPerSMAttr);
    }
    return mlir::success();
  }

  mlir::LogicalResult bindDTypes(mlir::ModuleOp module) {
    std::string unbound;
    mlir::AttrTypeReplacer replacer;
    replacer.addReplacement(
        [&](mlir::OpaqueType type) -> std::optional<mlir::Type> {
          if (type.getDialectNamespace() != kPlaceholderDialect)
            return std::nullopt;
          auto it = dtypeValues.find(type.getTypeData());
          if (it != dtypeValues.end())
            return it->second;
          unbound = type.getTypeData().str();
          return std::nullopt;
        });
    replacer.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true,
                                          /*replaceLocs=*/false,
                                          /*replaceTypes=*/true);
    if (!unbound.empty())
      return module.emitError()
             << "dtype placeholder !packjit." << unbound << " has no binding";
    return mlir::success();
  }
};

} // namespace
} // namespace packjit::pipeline
