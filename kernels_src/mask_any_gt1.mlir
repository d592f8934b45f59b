// mask_any_gt1: whether any value of a mask [B, S] is greater than 1
// (is_indexed_packed_mask).
// @dtype T: i64 i32 i16 i8 u8
// @constexpr BLOCK = 256 in 32..1024
//
// Kernel ABI, the PTX parameters in order (pointers are .u64 global addresses):
//   mask       T*    [B, S] at any strides (u8 read as unsigned)
//   B, S       i64   the mask's shape
//   stride_b   i64   row stride, in elements
//   stride_s   i64   column stride, in elements
//   flag       i32*  out: set to 1 when a value > 1 exists; the caller
//                    zeroes it first (the kernel never writes 0)
// Launch: blockDim = (BLOCK, 1, 1) (.reqntid), any gridDim.x: a grid-stride
// loop walks the B*S tokens.
// How it works: docs/kernels.md#mask_any_gt1.
module {
  gpu.module @packjit {
    gpu.func @mask_any_gt1(%mask: !llvm.ptr<1>, %B: i64, %S: i64,
                           %stride_b: i64, %stride_s: i64, %flag: !llvm.ptr<1>,
                           %block: i64 {packjit.constexpr = "BLOCK"},
                           %unsigned: i1 {packjit.constexpr = "T_UNSIGNED"})
        kernel attributes {packjit.block = "BLOCK"} {
      %c1 = arith.constant 1 : i64
      %one32 = arith.constant 1 : i32
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %grid = gpu.grid_dim x
      %t = arith.index_cast %tid : index to i64
      %b = arith.index_cast %bid : index to i64
      %g = arith.index_cast %grid : index to i64
      %block_start = arith.muli %b, %block : i64
      %first = arith.addi %block_start, %t : i64
      %stride = arith.muli %g, %block : i64
      %n = arith.muli %B, %S : i64
      scf.for %p = %first to %n step %stride : i64 {
        %row = arith.divsi %p, %S : i64
        %row_start = arith.muli %row, %S : i64
        %col = arith.subi %p, %row_start : i64
        %row_offset = arith.muli %row, %stride_b : i64
        %col_offset = arith.muli %col, %stride_s : i64
        %offset = arith.addi %row_offset, %col_offset : i64
        %ptr = llvm.getelementptr %mask[%offset] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
        %x = llvm.load %ptr : !llvm.ptr<1> -> !packjit.T
        %signed_value = arith.index_cast %x : !packjit.T to index
        %unsigned_value = arith.index_castui %x : !packjit.T to index
        %value = arith.select %unsigned, %unsigned_value, %signed_value : index
        %v = arith.index_cast %value : index to i64
        %above_one = arith.cmpi sgt, %v, %c1 : i64
        scf.if %above_one {
          llvm.store %one32, %flag : i32, !llvm.ptr<1>
        }
      }
      gpu.return
    }
  }
}
