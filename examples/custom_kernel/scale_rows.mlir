// scale_rows: x[r, :] *= scale[r] for every row r of x [rows, cols], in place.
// An example kernel (docs/compiler.md, "Adding a kernel"), not one of
// packjit's own.
// @dtype T: f32 f16 bf16 f64
// @constexpr BLOCK = 256 in 32..1024 multiple_of 32
//
// Kernel ABI, the PTX parameters in order (pointers are .u64 global addresses):
//   x      T*   [rows, cols], contiguous; scaled in place
//   scale  T*   [rows]
//   cols   i64  the row length
// Launch: blockDim = (BLOCK, 1, 1) (.reqntid), gridDim.x = rows: block r
// scales row r, its threads BLOCK columns apart.
module {
  gpu.module @packjit {
    gpu.func @scale_rows(%x: !llvm.ptr<1>, %scale: !llvm.ptr<1>, %cols: i64,
                         %block: i64 {packjit.constexpr = "BLOCK"})
        kernel attributes {packjit.block = "BLOCK"} {
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %t = arith.index_cast %tid : index to i64
      %r = arith.index_cast %bid : index to i64
      %scale_ptr = llvm.getelementptr %scale[%r] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
      %s = llvm.load %scale_ptr : !llvm.ptr<1> -> !packjit.T
      %row_start = arith.muli %r, %cols : i64
      scf.for %c = %t to %cols step %block : i64 {
        %offset = arith.addi %row_start, %c : i64
        %ptr = llvm.getelementptr %x[%offset] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
        %v = llvm.load %ptr : !llvm.ptr<1> -> !packjit.T
        %scaled = arith.mulf %v, %s : !packjit.T
        llvm.store %scaled, %ptr : !packjit.T, !llvm.ptr<1>
      }
      gpu.return
    }
  }
}
