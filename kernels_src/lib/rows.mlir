// Row copies shared by gather_rows and scatter_rows: LANES threads copy one
// row, each up to four words at a time. Not a kernel: a template's gpu.module
// includes it (an `@include "lib/rows.mlir"` line, see docs/kernels.md).

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

// CHECK = 1: a row whose index is out of range lowers indices[nnz] (the
// caller's flag word, set to nnz) to its position i, so the op can name the
// first bad index as the CPU does. One atomic per bad row (lane 0 of its
// group); never reached when CHECK = 0.
func.func private @record_bad_index(%indices: !llvm.ptr<1>, %nnz: i64, %i: i64,
                                    %lane: i64, %in_range: i1) {
  %c0 = arith.constant 0 : i64
  %true = arith.constant true
  %out_of_range = arith.xori %in_range, %true : i1
  %first_lane = arith.cmpi eq, %lane, %c0 : i64
  %report = arith.andi %out_of_range, %first_lane : i1
  scf.if %report {
    %flag = llvm.getelementptr %indices[%nnz] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
    %old = llvm.atomicrmw min %flag, %i monotonic : !llvm.ptr<1>, i64
  }
  return
}
