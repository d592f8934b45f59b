// A thread's chunk of a contiguous [N] tensor of T (a mask, position ids):
// CHUNK bytes (32 or 64) read as 16-byte loads and unpacked token by token in
// registers. Not a kernel: a template's gpu.module includes it (an
// `@include "lib/chunk.mlir"` line, see docs/kernels.md).

// The CHUNK bytes of the thread's tokens from flat position p0, as eight
// words (the upper four only when CHUNK is 64); `full` when the chunk
// lies before N (else the words are zeros: @token reads token by token).
func.func private @load_chunk(%mask: !llvm.ptr<1>, %p0: i64, %per_thread: i64, %N: i64,
                              %tbytes: i64, %chunk: i64)
    -> (i1, i64, i64, i64, i64, i64, i64, i64, i64) {
  %c64 = arith.constant 64 : i64
  %chunk_end = arith.addi %p0, %per_thread : i64
  %full = arith.cmpi sle, %chunk_end, %N : i64
  %byte_offset = arith.muli %p0, %tbytes : i64
  %chunk_ptr = llvm.getelementptr %mask[%byte_offset] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i8
  %w0, %w1, %w2, %w3 = func.call @load32(%chunk_ptr, %full)
      : (!llvm.ptr<1>, i1) -> (i64, i64, i64, i64)
  %wide = arith.cmpi eq, %chunk, %c64 : i64
  %second = arith.andi %full, %wide : i1
  %upper_ptr = llvm.getelementptr %chunk_ptr[32] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i8
  %w4, %w5, %w6, %w7 = func.call @load32(%upper_ptr, %second)
      : (!llvm.ptr<1>, i1) -> (i64, i64, i64, i64)
  return %full, %w0, %w1, %w2, %w3, %w4, %w5, %w6, %w7 : i1, i64, i64, i64, i64, i64, i64, i64, i64
}

// Token j of the thread's chunk, widened to i64: unpacked from the
// loaded words, or (a chunk crossing N) loaded alone, 0 past N.
func.func private @token(%mask: !llvm.ptr<1>, %full: i1, %w0: i64, %w1: i64,
                         %w2: i64, %w3: i64, %w4: i64, %w5: i64, %w6: i64,
                         %w7: i64, %j: i64, %p: i64, %N: i64,
                         %tbytes: i64, %unsigned: i1) -> i64 {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c3 = arith.constant 3 : i64
  %c7 = arith.constant 7 : i64
  %c8 = arith.constant 8 : i64
  %c64 = arith.constant 64 : i64
  %v = scf.if %full -> (i64) {
    %byte = arith.muli %j, %tbytes : i64
    %word = arith.shrui %byte, %c3 : i64
    %in_word = arith.andi %byte, %c7 : i64
    %shift = arith.muli %in_word, %c8 : i64
    %c4 = arith.constant 4 : i64
    %c5 = arith.constant 5 : i64
    %c6 = arith.constant 6 : i64
    %is1 = arith.cmpi eq, %word, %c1 : i64
    %is2 = arith.cmpi eq, %word, %c2 : i64
    %is3 = arith.cmpi eq, %word, %c3 : i64
    %is4 = arith.cmpi eq, %word, %c4 : i64
    %is5 = arith.cmpi eq, %word, %c5 : i64
    %is6 = arith.cmpi eq, %word, %c6 : i64
    %is7 = arith.cmpi eq, %word, %c7 : i64
    %x01 = arith.select %is1, %w1, %w0 : i64
    %x012 = arith.select %is2, %w2, %x01 : i64
    %x03 = arith.select %is3, %w3, %x012 : i64
    %x04 = arith.select %is4, %w4, %x03 : i64
    %x05 = arith.select %is5, %w5, %x04 : i64
    %x06 = arith.select %is6, %w6, %x05 : i64
    %x = arith.select %is7, %w7, %x06 : i64
    %low = arith.shrui %x, %shift : i64
    %bits = arith.muli %tbytes, %c8 : i64
    %spare = arith.subi %c64, %bits : i64
    %top = arith.shli %low, %spare : i64
    %as_signed = arith.shrsi %top, %spare : i64
    %as_unsigned = arith.shrui %top, %spare : i64
    %y = arith.select %unsigned, %as_unsigned, %as_signed : i64
    scf.yield %y : i64
  } else {
    %in_range = arith.cmpi slt, %p, %N : i64
    %y = scf.if %in_range -> (i64) {
      %ptr = llvm.getelementptr %mask[%p] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
      %raw = llvm.load %ptr : !llvm.ptr<1> -> !packjit.T
      %signed_value = arith.index_cast %raw : !packjit.T to index
      %unsigned_value = arith.index_castui %raw : !packjit.T to index
      %value = arith.select %unsigned, %unsigned_value, %signed_value : index
      %wide = arith.index_cast %value : index to i64
      scf.yield %wide : i64
    } else {
      scf.yield %c0 : i64
    }
    scf.yield %y : i64
  }
  return %v : i64
}

// 32 bytes at `ptr` (16-byte aligned) as four words when `read`, else zeros.
func.func private @load32(%ptr: !llvm.ptr<1>, %read: i1) -> (i64, i64, i64, i64) {
  %c0 = arith.constant 0 : i64
  %w:4 = scf.if %read -> (i64, i64, i64, i64) {
    %hi_ptr = llvm.getelementptr %ptr[16] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i8
    %lo = llvm.load %ptr {alignment = 16 : i64} : !llvm.ptr<1> -> vector<2xi64>
    %hi = llvm.load %hi_ptr {alignment = 16 : i64} : !llvm.ptr<1> -> vector<2xi64>
    %i0 = arith.constant 0 : i32
    %i1 = arith.constant 1 : i32
    %x0 = llvm.extractelement %lo[%i0 : i32] : vector<2xi64>
    %x1 = llvm.extractelement %lo[%i1 : i32] : vector<2xi64>
    %x2 = llvm.extractelement %hi[%i0 : i32] : vector<2xi64>
    %x3 = llvm.extractelement %hi[%i1 : i32] : vector<2xi64>
    scf.yield %x0, %x1, %x2, %x3 : i64, i64, i64, i64
  } else {
    scf.yield %c0, %c0, %c0, %c0 : i64, i64, i64, i64
  }
  return %w#0, %w#1, %w#2, %w#3 : i64, i64, i64, i64
}
