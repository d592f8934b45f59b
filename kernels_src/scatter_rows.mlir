// scatter_rows: dst[indices[i], :] = src[i, :] for i < nnz (pad_input).
// @dtype T: f32 f16 bf16 i64 i32
// @constexpr ROW = 1 in 1..1048576
// @constexpr BLOCK = 256 in 32..1024
//
// Kernel ABI, the PTX parameters in order (pointers are .u64 global addresses):
//   src      T*    [nnz, ROW], rows contiguous
//   dst      T*    [dst_rows, ROW], rows contiguous; the caller zero-fills it
//   indices  i64*  [nnz]
//   nnz      i64   rows to scatter
//   dst_rows i64   rows of dst (for the bounds check)
// Launch: blockDim = (BLOCK, 1, 1) (.reqntid), any gridDim.x: a grid-stride
// loop walks the nnz*ROW source elements.
// Design: one thread per source element; a row whose index is outside
// [0, dst_rows) is skipped, so nothing is written out of bounds.
module {
  gpu.module @packjit {
    gpu.func @scatter_rows(%src: !llvm.ptr<1>, %dst: !llvm.ptr<1>,
                           %indices: !llvm.ptr<1>, %nnz: i64, %dst_rows: i64,
                           %row: i64 {packjit.constexpr = "ROW"},
                           %block: i64 {packjit.constexpr = "BLOCK"})
        kernel attributes {packjit.block = "BLOCK"} {
      %c0 = arith.constant 0 : i64
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %grid = gpu.grid_dim x
      %t = arith.index_cast %tid : index to i64
      %b = arith.index_cast %bid : index to i64
      %g = arith.index_cast %grid : index to i64
      %block_start = arith.muli %b, %block : i64
      %first = arith.addi %block_start, %t : i64
      %stride = arith.muli %g, %block : i64
      %total = arith.muli %nnz, %row : i64
      scf.for %e = %first to %total step %stride : i64 {
        %i = arith.divui %e, %row : i64
        %j = arith.remui %e, %row : i64
        %index_ptr = llvm.getelementptr %indices[%i] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
        %r = llvm.load %index_ptr : !llvm.ptr<1> -> i64
        %not_negative = arith.cmpi sge, %r, %c0 : i64
        %below_end = arith.cmpi slt, %r, %dst_rows : i64
        %in_range = arith.andi %not_negative, %below_end : i1
        scf.if %in_range {
          %src_ptr = llvm.getelementptr %src[%e] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
          %x = llvm.load %src_ptr : !llvm.ptr<1> -> !packjit.T
          %row_start = arith.muli %r, %row : i64
          %d = arith.addi %row_start, %j : i64
          %dst_ptr = llvm.getelementptr %dst[%d] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
          llvm.store %x, %dst_ptr : !packjit.T, !llvm.ptr<1>
        }
      }
      gpu.return
    }
  }
}
