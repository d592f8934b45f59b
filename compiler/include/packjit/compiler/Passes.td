// packjit's own passes (ODS); generated into Passes.h.inc.
#ifndef PACKJIT_COMPILER_PASSES
#define PACKJIT_COMPILER_PASSES

include "mlir/Pass/PassBase.td"

def PackjitSpecialize : Pass<"packjit-specialize", "::mlir::ModuleOp"> {
  let summary = "Bind a kernel template's constexprs and dtype placeholders";
  let description = [{
    Every function argument carrying `packjit.constexpr = "NAME"` is replaced
    by an `arith.constant` of NAME's value and removed from the signature.
    Every placeholder type `!packjit.NAME` (an opaque type) is replaced, in
    types, attributes and block arguments, by the dtype bound to NAME. A
    function attribute `packjit.block = "NAME"` becomes `known_block_size =
    [NAME, 1, 1]`. Fails on a constexpr without a value, an unbound
    placeholder, or an operation of an unknown dialect.
  }];
  let options = [
    ListOption<"constexprs", "constexprs", "std::string",
               "NAME=VALUE bindings of the constexpr arguments">,
    ListOption<"dtypes", "dtypes", "std::string",
               "NAME=TYPE bindings of the placeholders (TYPE an MLIR type)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def PackjitInlineHelpers : Pass<"packjit-inline-helpers", "::mlir::ModuleOp"> {
  let summary = "Inline a template's func.func helpers into its gpu.func kernels";
  let description = [{
    Inlines every `func.call` in a `gpu.func` whose callee is a single-block
    `func.func` of the same `gpu.module`, repeatedly (helpers that call
    helpers), then erases the private helpers no call reaches any more.
    Runs before the canonicalizer, so constant arguments (a shuffle's mode,
    sizeof(T), constexprs) fold in the helper bodies before anything is
    lowered. MLIR's inliner pass cannot do it: the GPU dialect refuses
    inlining into a `gpu.func`. Calls it cannot inline stay (the lowering
    inlines them after the conversion to NVVM).
  }];
}

def PackjitNaturalAlignment
    : Pass<"packjit-natural-alignment", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Give unaligned llvm.load/llvm.store their type's natural alignment";
  let description = [{
    Sets the alignment of every `llvm.load` and `llvm.store` that has none
    (or 0) to its value type's size in bytes (8 for pointers); vectors and
    other types are left alone. Without it LLVM takes the default data
    layout's alignment, which aligns i64 to 4 bytes, and NVPTX splits every
    64-bit access in two. Tensors are naturally aligned for their dtype, so
    this states what is true. Runs last in the lowering to NVVM.
  }];
}

def PackjitConvertToNvvm
    : Pass<"packjit-convert-to-nvvm", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lower a gpu.module's kernel to the LLVM and NVVM dialects";
  let description = [{
    `convert-gpu-to-nvvm` with index bitwidth 64, the bare-pointer call
    convention and no pattern rollback, minus its first step: a greedy
    rewrite with the GPU dialect's in-dialect lowerings (all-reduce,
    shuffles of 64-bit values, global ids, ...) that also folds every
    operation and simplifies every region of the module. packjit's templates
    use none of those operations and are folded before this pass, so that
    step only cost time (half of the pass on mask_scan); the PTX of every
    kernel is byte-identical without it. Fails on an operation left illegal,
    as the upstream pass does.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect"];
}

#endif // PACKJIT_COMPILER_PASSES
