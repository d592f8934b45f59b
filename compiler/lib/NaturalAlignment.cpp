// packjit-natural-alignment (Passes.td says why).
#include "Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include <algorithm>

namespace packjit::pipeline {

// The generated getDependentDialects of a pass without dependent dialects
// leaves its parameter unused (LLVM builds with -Wno-unused-parameter).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define GEN_PASS_DEF_PACKJITNATURALALIGNMENT
#include "Passes.h.inc"
#pragma GCC diagnostic pop

namespace {

// A scalar's size in bytes (8 for a pointer); 0: leave it alone.
uint64_t naturalAlignment(mlir::Type type) {
  if (type.isIntOrFloat())
    return std::max<uint64_t>(1, type.getIntOrFloatBitWidth() / 8);
  return llvm::isa<mlir::LLVM::LLVMPointerType>(type) ? 8 : 0;
}

bool unaligned(std::optional<uint64_t> alignment) {
  return !alignment || *alignment == 0;
}

class NaturalAlignment
    : public impl::PackjitNaturalAlignmentBase<NaturalAlignment> {
  void runOnOperation() override {
    getOperation().walk([](mlir::Operation *op) {
      if (auto load = llvm::dyn_cast<mlir::LLVM::LoadOp>(op)) {
        if (unaligned(load.getAlignment()))
          if (uint64_t align = naturalAlignment(load.getType()))
            load.setAlignment(align);
      } else if (auto store = llvm::dyn_cast<mlir::LLVM::StoreOp>(op)) {
        if (unaligned(store.getAlignment()))
          if (uint64_t align = naturalAlignment(store.getValue().getType()))
            store.setAlignment(align);
      }
    });
  }
};

} // namespace

} // namespace packjit::pipeline
