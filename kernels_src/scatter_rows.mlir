// scatter_rows: dst[indices[i], :] = src[i, :] for i < nnz (pad_input).
// @dtype T: f32 f16 bf16 i64 i32
// @constexpr ROW = 1 in 1..1048576
// @constexpr BLOCK = 256 in 32..1024
// @constexpr LANES = 32 in 1..1024 power_of_2 divides BLOCK
// @constexpr WIDE = 0 in 0..1
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
// Design: as gather_rows: LANES consecutive threads (a power of two dividing
// BLOCK) copy one row, one index load per row, up to four loads in flight per
// thread. A row whose index is outside [0, dst_rows) is skipped, so nothing
// is written out of bounds.
module {
  gpu.module @packjit {
    gpu.func @scatter_rows(%src: !llvm.ptr<1>, %dst: !llvm.ptr<1>,
                           %indices: !llvm.ptr<1>, %nnz: i64, %dst_rows: i64,
                           %src_stride: i64,
                           %row: i64 {packjit.constexpr = "ROW"},
                           %block: i64 {packjit.constexpr = "BLOCK"},
                           %lanes: i64 {packjit.constexpr = "LANES"},
                           %wide: i1 {packjit.constexpr = "WIDE"})
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

    // Words lane, lane + lanes, ... of one row from src + src_offset to
    // dst + dst_offset, as 16-byte words; zeros when not `valid`. Four loads
    // go out before the four stores that use them.
    func.func private @copy_row_wide(%src: !llvm.ptr<1>, %src_offset: i64,
                                     %dst: !llvm.ptr<1>, %dst_offset: i64,
                                     %lane: i64, %row: i64, %lanes: i64, %valid: i1) {
      %true = arith.constant true
      %c4 = arith.constant 4 : i64
      %step = arith.muli %lanes, %c4 : i64
      %src_row = llvm.getelementptr %src[%src_offset] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, vector<4xi32>
      %dst_row = llvm.getelementptr %dst[%dst_offset] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, vector<4xi32>
      scf.for %k0 = %lane to %row step %step : i64 {
        %k1 = arith.addi %k0, %lanes : i64
        %k2 = arith.addi %k1, %lanes : i64
        %k3 = arith.addi %k2, %lanes : i64
        %has1 = arith.cmpi slt, %k1, %row : i64
        %has2 = arith.cmpi slt, %k2, %row : i64
        %has3 = arith.cmpi slt, %k3, %row : i64
        %x0 = func.call @load_wide(%src_row, %k0, %valid, %true) : (!llvm.ptr<1>, i64, i1, i1) -> vector<4xi32>
        %x1 = func.call @load_wide(%src_row, %k1, %valid, %has1) : (!llvm.ptr<1>, i64, i1, i1) -> vector<4xi32>
        %x2 = func.call @load_wide(%src_row, %k2, %valid, %has2) : (!llvm.ptr<1>, i64, i1, i1) -> vector<4xi32>
        %x3 = func.call @load_wide(%src_row, %k3, %valid, %has3) : (!llvm.ptr<1>, i64, i1, i1) -> vector<4xi32>
        func.call @store_wide(%dst_row, %k0, %x0, %true) : (!llvm.ptr<1>, i64, vector<4xi32>, i1) -> ()
        func.call @store_wide(%dst_row, %k1, %x1, %has1) : (!llvm.ptr<1>, i64, vector<4xi32>, i1) -> ()
        func.call @store_wide(%dst_row, %k2, %x2, %has2) : (!llvm.ptr<1>, i64, vector<4xi32>, i1) -> ()
        func.call @store_wide(%dst_row, %k3, %x3, %has3) : (!llvm.ptr<1>, i64, vector<4xi32>, i1) -> ()
      }
      return
    }

    // Word k of `base` when `valid` (the row exists) and `exists` (k < ROW);
    // zeros otherwise.
    func.func private @load_wide(%base: !llvm.ptr<1>, %k: i64, %valid: i1, %exists: i1) -> vector<4xi32> {
      %both = arith.andi %valid, %exists : i1
      %x = scf.if %both -> (vector<4xi32>) {
        %p = llvm.getelementptr %base[%k] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, vector<4xi32>
        %v = llvm.load %p {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xi32>
        scf.yield %v : vector<4xi32>
      } else {
        %zero = llvm.mlir.zero : vector<4xi32>
        scf.yield %zero : vector<4xi32>
      }
      return %x : vector<4xi32>
    }

    func.func private @store_wide(%base: !llvm.ptr<1>, %k: i64, %x: vector<4xi32>, %exists: i1) {
      scf.if %exists {
        %p = llvm.getelementptr %base[%k] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, vector<4xi32>
        llvm.store %x, %p {alignment = 16 : i64} : vector<4xi32>, !llvm.ptr<1>
      }
      return
    }

    // @copy_row_wide with T words (rows or addresses not 16-byte aligned).
    func.func private @copy_row_t(%src: !llvm.ptr<1>, %src_offset: i64,
                                  %dst: !llvm.ptr<1>, %dst_offset: i64,
                                  %lane: i64, %row: i64, %lanes: i64, %valid: i1) {
      %true = arith.constant true
      %c4 = arith.constant 4 : i64
      %step = arith.muli %lanes, %c4 : i64
      %src_row = llvm.getelementptr %src[%src_offset] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
      %dst_row = llvm.getelementptr %dst[%dst_offset] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
      scf.for %k0 = %lane to %row step %step : i64 {
        %k1 = arith.addi %k0, %lanes : i64
        %k2 = arith.addi %k1, %lanes : i64
        %k3 = arith.addi %k2, %lanes : i64
        %has1 = arith.cmpi slt, %k1, %row : i64
        %has2 = arith.cmpi slt, %k2, %row : i64
        %has3 = arith.cmpi slt, %k3, %row : i64
        %x0 = func.call @load_t(%src_row, %k0, %valid, %true) : (!llvm.ptr<1>, i64, i1, i1) -> !packjit.T
        %x1 = func.call @load_t(%src_row, %k1, %valid, %has1) : (!llvm.ptr<1>, i64, i1, i1) -> !packjit.T
        %x2 = func.call @load_t(%src_row, %k2, %valid, %has2) : (!llvm.ptr<1>, i64, i1, i1) -> !packjit.T
        %x3 = func.call @load_t(%src_row, %k3, %valid, %has3) : (!llvm.ptr<1>, i64, i1, i1) -> !packjit.T
        func.call @store_t(%dst_row, %k0, %x0, %true) : (!llvm.ptr<1>, i64, !packjit.T, i1) -> ()
        func.call @store_t(%dst_row, %k1, %x1, %has1) : (!llvm.ptr<1>, i64, !packjit.T, i1) -> ()
        func.call @store_t(%dst_row, %k2, %x2, %has2) : (!llvm.ptr<1>, i64, !packjit.T, i1) -> ()
        func.call @store_t(%dst_row, %k3, %x3, %has3) : (!llvm.ptr<1>, i64, !packjit.T, i1) -> ()
      }
      return
    }

    func.func private @load_t(%base: !llvm.ptr<1>, %k: i64, %valid: i1, %exists: i1) -> !packjit.T {
      %both = arith.andi %valid, %exists : i1
      %x = scf.if %both -> (!packjit.T) {
        %p = llvm.getelementptr %base[%k] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
        %v = llvm.load %p : !llvm.ptr<1> -> !packjit.T
        scf.yield %v : !packjit.T
      } else {
        %zero = llvm.mlir.zero : !packjit.T
        scf.yield %zero : !packjit.T
      }
      return %x : !packjit.T
    }

    func.func private @store_t(%base: !llvm.ptr<1>, %k: i64, %x: !packjit.T, %exists: i1) {
      scf.if %exists {
        %p = llvm.getelementptr %base[%k] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
        llvm.store %x, %p : !packjit.T, !llvm.ptr<1>
      }
      return
    }
  }
}
