// A template whose placeholder binding makes an op ill-typed.
// @dtype T: i32
module {
  gpu.module @packjit {
    gpu.func @bad(%p: !llvm.ptr<1>) kernel {
      %v = llvm.load %p : !llvm.ptr<1> -> !packjit.T
      %y = arith.addf %v, %v : !packjit.T
      gpu.return
    }
  }
}
