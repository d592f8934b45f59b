// A template with a misspelt operation.
// @dtype T: i32
module {
  gpu.module @packjit {
    gpu.func @bad(%x: i64) kernel {
      %y = "arith.addz"(%x, %x) : (i64, i64) -> i64
      gpu.return
    }
  }
}
