// packjit-convert-to-nvvm (Passes.td says why it is not convert-gpu-to-nvvm).
#include "Passes.h"

#include "mlir/Conversion/ConvertToLLVM/ToLLVMInterface.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/LoweringOptions.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Transforms/DialectConversion.h"

namespace packjit::pipeline {

#define GEN_PASS_DEF_PACKJITCONVERTTONVVM
#include "Passes.h.inc"

namespace {

class ConvertToNvvm : public impl::PackjitConvertToNvvmBase<ConvertToNvvm> {
public:
  using PackjitConvertToNvvmBase::PackjitConvertToNvvmBase;

  void runOnOperation() override {
    mlir::gpu::GPUModuleOp gpuModule = getOperation();
    mlir::MLIRContext *context = &getContext();
    // As upstream: helpers left as functions get C wrappers.
    for (auto func : gpuModule.getOps<mlir::func::FuncOp>())
      func->setAttr(mlir::LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    mlir::UnitAttr::get(context));
    mlir::LowerToLLVMOptions options(
        context, mlir::DataLayout(llvm::cast<mlir::DataLayoutOpInterface>(
                     gpuModule.getOperation())));
    options.overrideIndexBitwidth(64);
    options.useBarePtrCallConv = true;
    mlir::LLVMTypeConverter converter(context, options);
    mlir::configureGpuToNVVMTypeConverter(converter);
    mlir::RewritePatternSet patterns(context);
    mlir::LLVMConversionTarget target(*context);
    // The upstream pass's patterns, in its order: the GPU ones first, with
    // the higher benefit, then every loaded dialect's (math has none here).
    mlir::populateGpuToNVVMConversionPatterns(converter, patterns,
                                              /*benefit=*/10);
    for (mlir::Dialect *dialect : context->getLoadedDialects()) {
      auto *iface =
          llvm::dyn_cast<mlir::ConvertToLLVMPatternInterface>(dialect);
      if (iface && dialect->getNamespace() != "math")
        iface->populateConvertToLLVMConversionPatterns(target, converter,
                                                       patterns);
    }
    mlir::populateGpuWMMAToNVVMConversionPatterns(converter, patterns);
    mlir::configureGpuToNVVMConversionLegality(target);
    mlir::ConversionConfig config;
    config.allowPatternRollback = false; // every pattern succeeds
    if (mlir::failed(mlir::applyPartialConversion(gpuModule, target,
                                                  std::move(patterns), config)))
      signalPassFailure();
  }
};

} // namespace
} // namespace packjit::pipeline
