// A template of its own that includes the embedded row copies (there is no
// lib/rows.mlir beside it).
// @dtype T: f32
module {
  gpu.module @packjit {
    gpu.func @copy_one_row(%src: !llvm.ptr<1>, %dst: !llvm.ptr<1>) kernel {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c8 = arith.constant 8 : i64
      %true = arith.constant true
      %tid = gpu.thread_id x
      %t = arith.index_cast %tid : index to i64
      func.call @copy_row_t(%src, %c0, %dst, %c0, %t, %c8, %c1, %true)
          : (!llvm.ptr<1>, i64, !llvm.ptr<1>, i64, i64, i64, i64, i1) -> ()
      gpu.return
    }

    // @include "lib/rows.mlir"
  }
}
