// A template whose include names no file.
// @dtype T: i32
module {
  gpu.module @packjit {
    // @include "lib/no_such_helpers.mlir"
  }
}
