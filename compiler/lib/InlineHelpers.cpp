// The packjit-inline-helpers pass: func.func helpers inlined into the
// kernels while the code is still arith/scf, so the canonicalizer folds each
// call site's constants before anything is lowered.
#include "Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/Inliner.h"
#include "mlir/Transforms/InliningUtils.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace packjit::pipeline {

// The generated getDependentDialects of a pass without dependent dialects
// leaves its parameter unused (LLVM builds with -Wno-unused-parameter).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define GEN_PASS_DEF_PACKJITINLINEHELPERS
#include "Passes.h.inc"
#pragma GCC diagnostic pop

namespace {

// Helpers nest a few levels deep (record -> element -> shuffle); more
// rounds than this means recursion, which stays a call.
constexpr int kMaxRounds = 16;

// The dialects' own hooks decide, except that a gpu.func may receive inlined
// code (the GPU dialect's interface refuses any region of its ops; a kernel
// body is an ordinary region for single-block callees).
class HelperInliner : public mlir::InlinerInterface {
public:
  using InlinerInterface::InlinerInterface;
  bool isLegalToInline(mlir::Region *dest, mlir::Region *src,
                       bool wouldBeCloned,
                       mlir::IRMapping &mapping) const override {
    if (llvm::isa<mlir::gpu::GPUFuncOp>(dest->getParentOp()))
      return true;
    return InlinerInterface::isLegalToInline(dest, src, wouldBeCloned, mapping);
  }
};

class InlineHelpers : public impl::PackjitInlineHelpersBase<InlineHelpers> {
public:
  using PackjitInlineHelpersBase::PackjitInlineHelpersBase;

  void runOnOperation() override {
    HelperInliner interface(&getContext());
    mlir::InlinerConfig config; // its default clone callback
    for (auto gpuModule : getOperation().getOps<mlir::gpu::GPUModuleOp>()) {
      mlir::SymbolTable symbols(gpuModule);
      for (auto kernel : gpuModule.getOps<mlir::gpu::GPUFuncOp>())
        inlineCalls(kernel, symbols, interface, config);
      eraseUnreachedHelpers(gpuModule);
    }
  }

private:
  static void inlineCalls(mlir::gpu::GPUFuncOp kernel,
                          mlir::SymbolTable &symbols, HelperInliner &interface,
                          const mlir::InlinerConfig &config) {
    for (int round = 0; round < kMaxRounds; ++round) {
      llvm::SmallVector<mlir::func::CallOp> calls;
      kernel.walk([&](mlir::func::CallOp call) { calls.push_back(call); });
      bool inlined = false;
      for (mlir::func::CallOp call : calls) {
        auto callee = symbols.lookup<mlir::func::FuncOp>(call.getCallee());
        // A multi-block body cannot go into an scf region's single block.
        if (!callee || callee.isExternal() || !callee.getBody().hasOneBlock())
          continue;
        if (mlir::failed(mlir::inlineCall(interface, config.getCloneCallback(),
                                          call, callee, &callee.getBody(),
                                          /*shouldCloneInlinedRegion=*/true)))
          continue;
        call.erase();
        inlined = true;
      }
      if (!inlined)
        return;
    }
  }

  // Private helpers that no call from a kernel reaches, directly or through
  // other helpers, go (templates reference helpers through func.call only).
  static void eraseUnreachedHelpers(mlir::gpu::GPUModuleOp gpuModule) {
    llvm::SmallVector<mlir::func::FuncOp> worklist;
    llvm::SmallPtrSet<mlir::Operation *, 16> reached;
    mlir::SymbolTable symbols(gpuModule);
    auto reach = [&](mlir::Operation *root) {
      root->walk([&](mlir::func::CallOp call) {
        if (auto callee = symbols.lookup<mlir::func::FuncOp>(call.getCallee()))
          if (reached.insert(callee).second)
            worklist.push_back(callee);
      });
    };
    for (mlir::Operation &op : gpuModule.getBody()->getOperations())
      if (!llvm::isa<mlir::func::FuncOp>(op))
        reach(&op);
    while (!worklist.empty())
      reach(worklist.pop_back_val());
    for (auto helper :
         llvm::make_early_inc_range(gpuModule.getOps<mlir::func::FuncOp>()))
      if (helper.isPrivate() && !reached.contains(helper))
        helper.erase();
  }
};

} // namespace
} // namespace packjit::pipeline
