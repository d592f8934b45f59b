// A template whose gpu.func is not marked `kernel`: it specializes, then the
// nvvm stage finds no kernel.
// @dtype T: i32
module {
  gpu.module @packjit {
    gpu.func @bad(%p: !llvm.ptr<1>) {
      %v = llvm.load %p : !llvm.ptr<1> -> !packjit.T
      llvm.store %v, %p : !packjit.T, !llvm.ptr<1>
      gpu.return
    }
  }
}
