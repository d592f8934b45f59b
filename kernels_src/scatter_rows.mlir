// scatter_rows: dst[indices[i], :] = src[i, :] for i < nnz (pad_input).
// @dtype T: f32 f16 bf16 i64 i32
// @constexpr ROW = 1 in 1..1048576
// @constexpr BLOCK = 256 in 32..1024
// @constexpr LANES = 32 in 1..1024 power_of_2 divides BLOCK
// @constexpr WIDE = 0 in 0..1
// @constexpr CHECK = 0 in 0..1
//
// Kernel ABI, the PTX parameters in order (pointers are .u64 global addresses):
//   src         T*    [nnz] rows of ROW words, row i at src + i * src_stride words
//   dst         T*    [dst_rows, ROW], packed; the caller zero-fills it
//   indices     i64*  [nnz]
//   nnz         i64   rows to scatter
//   dst_rows    i64   rows of dst (for the bounds check)
//   src_stride  i64   row stride of src, in words
// A word is one T, or 16 bytes when WIDE = 1 (T is then unused; the caller
// guarantees 16-byte aligned rows and strides). ROW counts words.
// Launch: blockDim = (BLOCK, 1, 1) (.reqntid), any gridDim.x.
// A row whose index is outside [0, dst_rows) is skipped. CHECK = 1
// (PACKJIT_CHECK=1) also reports it: indices then has nnz + 1 entries, and
// indices[nnz], which the caller sets to nnz, ends as the lowest position i
// whose index is out of range (@record_bad_index).
// How it works: docs/kernels.md#gather_rows-and-scatter_rows.
module {
  gpu.module @packjit {
    gpu.func @scatter_rows(%src: !llvm.ptr<1>, %dst: !llvm.ptr<1>,
                           %indices: !llvm.ptr<1>, %nnz: i64, %dst_rows: i64,
                           %src_stride: i64,
                           %row: i64 {packjit.constexpr = "ROW"},
                           %block: i64 {packjit.constexpr = "BLOCK"},
                           %lanes: i64 {packjit.constexpr = "LANES"},
                           %wide: i1 {packjit.constexpr = "WIDE"},
                           %check: i1 {packjit.constexpr = "CHECK"})
        kernel attributes {packjit.block = "BLOCK"} {
      %c0 = arith.constant 0 : i64
      %true = arith.constant true
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %grid = gpu.grid_dim x
      %t = arith.index_cast %tid : index to i64
      %b = arith.index_cast %bid : index to i64
      %g = arith.index_cast %grid : index to i64
      // LANES is a power of two: these are a mask and a shift.
      %lane = arith.remui %t, %lanes : i64
      %group = arith.divui %t, %lanes : i64
      %groups = arith.divui %block, %lanes : i64
      %block_first = arith.muli %b, %groups : i64
      %first = arith.addi %block_first, %group : i64
      %step = arith.muli %g, %groups : i64
      scf.for %i = %first to %nnz step %step : i64 {
        %index_ptr = llvm.getelementptr %indices[%i] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
        %r = llvm.load %index_ptr : !llvm.ptr<1> -> i64
        %not_negative = arith.cmpi sge, %r, %c0 : i64
        %below_end = arith.cmpi slt, %r, %dst_rows : i64
        %in_range = arith.andi %not_negative, %below_end : i1
        scf.if %check {
          func.call @record_bad_index(%indices, %nnz, %i, %lane, %in_range)
              : (!llvm.ptr<1>, i64, i64, i64, i1) -> ()
        }
        scf.if %in_range {
          %src_offset = arith.muli %i, %src_stride : i64
          %dst_offset = arith.muli %r, %row : i64
          scf.if %wide {
            func.call @copy_row_wide(%src, %src_offset, %dst, %dst_offset, %lane, %row, %lanes, %true)
                : (!llvm.ptr<1>, i64, !llvm.ptr<1>, i64, i64, i64, i64, i1) -> ()
          } else {
            func.call @copy_row_t(%src, %src_offset, %dst, %dst_offset, %lane, %row, %lanes, %true)
                : (!llvm.ptr<1>, i64, !llvm.ptr<1>, i64, i64, i64, i64, i1) -> ()
          }
        }
      }
      gpu.return
    }

    // @include "lib/rows.mlir"
  }
}
