// gather_rows: dst_t[i, :] = src_t[indices[i], :] for i < nnz, for each
// tensor t < gridDim.y (unpad_input; unpad_inputs gathers q, k and v in one
// launch).
// @dtype T: f32 f16 bf16 i64 i32
// @constexpr ROW = 1 in 1..1048576
// @constexpr BLOCK = 256 in 32..1024
// @constexpr LANES = 32 in 1..1024 power_of_2 divides BLOCK
// @constexpr WIDE = 0 in 0..1
// @constexpr CHECK = 0 in 0..1
//
// Kernel ABI, the PTX parameters in order (pointers are .u64 global addresses):
//   src0, dst0  T*  tensor 0: src [src_rows] rows of ROW words, row r at
//                   src0 + r * src_stride0 words; dst [nnz, ROW], packed
//   src1, dst1  T*  tensor 1 (read only when gridDim.y > 1)
//   src2, dst2  T*  tensor 2 (read only when gridDim.y > 2)
//   indices     i64*  [nnz]
//   nnz         i64   rows to gather
//   src_rows    i64   rows of each src (for the bounds check)
//   src_stride0, src_stride1, src_stride2  i64  row strides of the sources, in words
// A word is one T, or 16 bytes when WIDE = 1 (T is then unused; the caller
// guarantees 16-byte aligned rows and strides). ROW counts words.
// Launch: blockDim = (BLOCK, 1, 1) (.reqntid), any gridDim.x, gridDim.y = the
// number of tensors (1..3).
// An index outside [0, src_rows) reads nothing and writes a row of zeros.
// CHECK = 1 (PACKJIT_CHECK=1) also reports it: indices then has nnz + 1
// entries, and indices[nnz], which the caller sets to nnz, ends as the
// lowest position i whose index is out of range (@record_bad_index).
// How it works: docs/kernels.md#gather_rows-and-scatter_rows.
module {
  gpu.module @packjit {
    gpu.func @gather_rows(%src0: !llvm.ptr<1>, %dst0: !llvm.ptr<1>,
                          %src1: !llvm.ptr<1>, %dst1: !llvm.ptr<1>,
                          %src2: !llvm.ptr<1>, %dst2: !llvm.ptr<1>,
                          %indices: !llvm.ptr<1>, %nnz: i64, %src_rows: i64,
                          %src_stride0: i64, %src_stride1: i64, %src_stride2: i64,
                          %row: i64 {packjit.constexpr = "ROW"},
                          %block: i64 {packjit.constexpr = "BLOCK"},
                          %lanes: i64 {packjit.constexpr = "LANES"},
                          %wide: i1 {packjit.constexpr = "WIDE"},
                          %check: i1 {packjit.constexpr = "CHECK"})
        kernel attributes {packjit.block = "BLOCK"} {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %tensor_id = gpu.block_id y
      %grid = gpu.grid_dim x
      %t = arith.index_cast %tid : index to i64
      %b = arith.index_cast %bid : index to i64
      %g = arith.index_cast %grid : index to i64
      %tensor = arith.index_cast %tensor_id : index to i64
      %is0 = arith.cmpi eq, %tensor, %c0 : i64
      %is1 = arith.cmpi eq, %tensor, %c1 : i64
      %src12 = llvm.select %is1, %src1, %src2 : i1, !llvm.ptr<1>
      %src = llvm.select %is0, %src0, %src12 : i1, !llvm.ptr<1>
      %dst12 = llvm.select %is1, %dst1, %dst2 : i1, !llvm.ptr<1>
      %dst = llvm.select %is0, %dst0, %dst12 : i1, !llvm.ptr<1>
      %stride12 = arith.select %is1, %src_stride1, %src_stride2 : i64
      %src_stride = arith.select %is0, %src_stride0, %stride12 : i64
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
        %below_end = arith.cmpi slt, %r, %src_rows : i64
        %in_range = arith.andi %not_negative, %below_end : i1
        scf.if %check {
          func.call @record_bad_index(%indices, %nnz, %i, %lane, %in_range)
              : (!llvm.ptr<1>, i64, i64, i64, i1) -> ()
        }
        %safe_r = arith.select %in_range, %r, %c0 : i64
        %src_offset = arith.muli %safe_r, %src_stride : i64
        %dst_offset = arith.muli %i, %row : i64
        scf.if %wide {
          func.call @copy_row_wide(%src, %src_offset, %dst, %dst_offset, %lane, %row, %lanes, %in_range)
              : (!llvm.ptr<1>, i64, !llvm.ptr<1>, i64, i64, i64, i64, i1) -> ()
        } else {
          func.call @copy_row_t(%src, %src_offset, %dst, %dst_offset, %lane, %row, %lanes, %in_range)
              : (!llvm.ptr<1>, i64, !llvm.ptr<1>, i64, i64, i64, i64, i1) -> ()
        }
      }
      gpu.return
    }

    // @include "lib/rows.mlir"
  }
}
