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

#endif // PACKJIT_COMPILER_PASSES
