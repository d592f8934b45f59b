// A template under development whose header constrains its constexpr.
// @dtype T: i32
// @constexpr N = 4 multiple_of 2
module {
  gpu.module @packjit {
    gpu.func @bad(%p: !llvm.ptr<1>, %n: i64 {packjit.constexpr = "N"}) kernel {
      gpu.return
    }
  }
}
