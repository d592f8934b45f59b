// mask_any_gt1: whether any value of a mask [B, S] is greater than 1
// (is_indexed_packed_mask), posted to the host in one word; threads stop
// reading once any thread has found one.
// @dtype T: i64 i32 i16 i8 u8
// @constexpr BLOCK = 256 in 32..1024
//
// Kernel ABI, the PTX parameters in order (pointers are .u64 global addresses):
//   mask       T*    [B, S], contiguous, 16-byte aligned (u8 read as unsigned)
//   N          i64   B*S
//   workspace  i64*  in/out, 2 words (the answer so far, the finished-block
//                    count), zero before the first launch; every launch
//                    leaves them zero. One launch at a time per workspace.
//   mailbox    i64*  8 words of host memory mapped for the device: the block
//                    that finishes last writes the answer (0 or 1) into word
//                    0 and zeros into words 1..3, then (after a system fence)
//                    `sequence` into word 4
//   sequence   i64   the value for mailbox word 4
// Launch: blockDim = (BLOCK, 1, 1) (.reqntid), any gridDim.x: a grid-stride
// loop walks the mask 16 bytes per thread at a time.
// How it works: docs/kernels.md#mask_any_gt1.
module {
  gpu.module @packjit {
    // @include "lib/gpu.mlir"
    gpu.func @mask_any_gt1(%mask: !llvm.ptr<1>, %N: i64, %workspace: !llvm.ptr<1>,
                           %mailbox: !llvm.ptr<1>, %sequence: i64,
                           %block: i64 {packjit.constexpr = "BLOCK"},
                           %unsigned: i1 {packjit.constexpr = "T_UNSIGNED"})
        workgroup(%block_found: memref<1xi64, #gpu.address_space<workgroup>>)
        kernel attributes {packjit.block = "BLOCK"} {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c16 = arith.constant 16 : i64
      %false = arith.constant false
      %true = arith.constant true
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %grid = gpu.grid_dim x
      %t = arith.index_cast %tid : index to i64
      %b = arith.index_cast %bid : index to i64
      %g = arith.index_cast %grid : index to i64
      %block_start = arith.muli %b, %block : i64
      %first = arith.addi %block_start, %t : i64
      %stride = arith.muli %g, %block : i64

      // sizeof(T), folded by LLVM.
      %null = llvm.mlir.zero : !llvm.ptr<1>
      %one_past = llvm.getelementptr %null[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, !packjit.T
      %tbytes = llvm.ptrtoint %one_past : !llvm.ptr<1> to i64
      %bytes = arith.muli %N, %tbytes : i64
      %words = arith.divui %bytes, %c16 : i64
      %i0 = arith.constant 0 : index
      %is_first_thread = arith.cmpi eq, %t, %c0 : i64
      scf.if %is_first_thread {
        memref.store %c0, %block_found[%i0] : memref<1xi64, #gpu.address_space<workgroup>>
      }
      gpu.barrier

      // Whole 16-byte words, four per thread at a time (their loads go out
      // together); a thread stops once it has found a value > 1 or any
      // block has posted one (read back with every four words).
      %c4 = arith.constant 4 : i64
      %step = arith.muli %stride, %c4 : i64
      %last_word0 = arith.subi %words, %c1 : i64
      %last_word = arith.maxsi %last_word0, %c0 : i64
      %walked:3 = scf.while (%w = %first, %found = %false, %mine = %false)
          : (i64, i1, i1) -> (i64, i1, i1) {
        %more = arith.cmpi slt, %w, %words : i64
        %open = arith.xori %found, %true : i1
        %go = arith.andi %more, %open : i1
        scf.condition(%go) %w, %found, %mine : i64, i1, i1
      } do {
      ^bb0(%w: i64, %found: i1, %mine: i1):
        %w1 = arith.addi %w, %stride : i64
        %w2 = arith.addi %w1, %stride : i64
        %w3 = arith.addi %w2, %stride : i64
        %a0 = func.call @words_have_gt1(%mask, %w, %words, %last_word, %tbytes, %unsigned) : (!llvm.ptr<1>, i64, i64, i64, i64, i1) -> i1
        %a1 = func.call @words_have_gt1(%mask, %w1, %words, %last_word, %tbytes, %unsigned) : (!llvm.ptr<1>, i64, i64, i64, i64, i1) -> i1
        %a2 = func.call @words_have_gt1(%mask, %w2, %words, %last_word, %tbytes, %unsigned) : (!llvm.ptr<1>, i64, i64, i64, i64, i1) -> i1
        %a3 = func.call @words_have_gt1(%mask, %w3, %words, %last_word, %tbytes, %unsigned) : (!llvm.ptr<1>, i64, i64, i64, i64, i1) -> i1
        %answer = llvm.load volatile %workspace : !llvm.ptr<1> -> i64
        %a01 = arith.ori %a0, %a1 : i1
        %a23 = arith.ori %a2, %a3 : i1
        %here = arith.ori %a01, %a23 : i1
        %mine2 = arith.ori %mine, %here : i1
        %known = arith.cmpi ne, %answer, %c0 : i64
        %found2 = arith.ori %mine2, %known : i1
        %next = arith.addi %w, %step : i64
        scf.yield %next, %found2, %mine2 : i64, i1, i1
      }
      // The tokens after the last whole word, one per thread.
      %whole_bytes = arith.muli %words, %c16 : i64
      %tail_start = arith.divui %whole_bytes, %tbytes : i64
      %p = arith.addi %tail_start, %first : i64
      %in_tail = arith.cmpi slt, %p, %N : i64
      scf.if %in_tail {
        %ptr = llvm.getelementptr %mask[%p] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
        %x = llvm.load %ptr : !llvm.ptr<1> -> !packjit.T
        %signed_value = arith.index_cast %x : !packjit.T to index
        %unsigned_value = arith.index_castui %x : !packjit.T to index
        %value = arith.select %unsigned, %unsigned_value, %signed_value : index
        %v = arith.index_cast %value : index to i64
        %above_one = arith.cmpi sgt, %v, %c1 : i64
        scf.if %above_one {
          memref.store %c1, %block_found[%i0] : memref<1xi64, #gpu.address_space<workgroup>>
        }
      }
      scf.if %walked#2 {
        memref.store %c1, %block_found[%i0] : memref<1xi64, #gpu.address_space<workgroup>>
      }

      // One store of the answer per block (not one per thread: stores to one
      // address queue up in L2); the block that finishes last posts the
      // answer and zeroes the workspace for the next launch.
      gpu.barrier
      %is_thread0 = arith.cmpi eq, %t, %c0 : i64
      scf.if %is_thread0 {
        %block_answer = memref.load %block_found[%i0] : memref<1xi64, #gpu.address_space<workgroup>>
        %block_has = arith.cmpi ne, %block_answer, %c0 : i64
        scf.if %block_has {
          llvm.store volatile %c1, %workspace : i64, !llvm.ptr<1>
        }
        func.call @fence() : () -> ()
        %done_ptr = llvm.getelementptr %workspace[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
        %finished_before = llvm.atomicrmw add %done_ptr, %c1 monotonic : !llvm.ptr<1>, i64
        %last_block = arith.subi %g, %c1 : i64
        %finishes_last = arith.cmpi eq, %finished_before, %last_block : i64
        scf.if %finishes_last {
          func.call @fence() : () -> ()
          %answer = llvm.load volatile %workspace : !llvm.ptr<1> -> i64
          %m1 = llvm.getelementptr %mailbox[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
          %m2 = llvm.getelementptr %mailbox[2] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
          %m3 = llvm.getelementptr %mailbox[3] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
          %m4 = llvm.getelementptr %mailbox[4] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
          llvm.store volatile %answer, %mailbox : i64, !llvm.ptr<1>
          llvm.store volatile %c0, %m1 : i64, !llvm.ptr<1>
          llvm.store volatile %c0, %m2 : i64, !llvm.ptr<1>
          llvm.store volatile %c0, %m3 : i64, !llvm.ptr<1>
          llvm.store volatile %c0, %workspace : i64, !llvm.ptr<1>
          llvm.store volatile %c0, %done_ptr : i64, !llvm.ptr<1>
          llvm.inline_asm has_side_effects "fence.sc.sys;", "~{memory}" : () -> ()
          llvm.store volatile %sequence, %m4 : i64, !llvm.ptr<1>
        }
      }
      gpu.return
    }

    // Whether 16-byte word `w` (when below `words`; read clamped to the last
    // word, so the load needs no branch) holds a value > 1.
    func.func private @words_have_gt1(%mask: !llvm.ptr<1>, %w: i64, %words: i64,
                                      %last_word: i64, %tbytes: i64, %unsigned: i1) -> i1 {
      %valid = arith.cmpi slt, %w, %words : i64
      %readable = arith.minsi %w, %last_word : i64
      %ptr = llvm.getelementptr %mask[%readable] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, vector<2xi64>
      %x = llvm.load %ptr {alignment = 16 : i64} : !llvm.ptr<1> -> vector<2xi64>
      %i0_32 = arith.constant 0 : i32
      %i1_32 = arith.constant 1 : i32
      %x0 = llvm.extractelement %x[%i0_32 : i32] : vector<2xi64>
      %x1 = llvm.extractelement %x[%i1_32 : i32] : vector<2xi64>
      %a0 = func.call @word_has_gt1(%x0, %tbytes, %unsigned) : (i64, i64, i1) -> i1
      %a1 = func.call @word_has_gt1(%x1, %tbytes, %unsigned) : (i64, i64, i1) -> i1
      %any = arith.ori %a0, %a1 : i1
      %here = arith.andi %any, %valid : i1
      return %here : i1
    }

    // Whether any of the 8 / sizeof(T) values packed in `w` exceeds 1
    // (sign- or zero-extended as T is).
    func.func private @word_has_gt1(%w: i64, %tbytes: i64, %unsigned: i1) -> i1 {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c8 = arith.constant 8 : i64
      %c64 = arith.constant 64 : i64
      %false = arith.constant false
      %per_word = arith.divui %c8, %tbytes : i64
      %bits = arith.muli %tbytes, %c8 : i64
      %spare = arith.subi %c64, %bits : i64
      %any = scf.for %k = %c0 to %per_word step %c1 iter_args(%acc = %false) -> (i1) : i64 {
        %shift = arith.muli %k, %bits : i64
        %low = arith.shrui %w, %shift : i64
        %top = arith.shli %low, %spare : i64
        %as_signed = arith.shrsi %top, %spare : i64
        %as_unsigned = arith.shrui %top, %spare : i64
        %v = arith.select %unsigned, %as_unsigned, %as_signed : i64
        %above_one = arith.cmpi sgt, %v, %c1 : i64
        %acc2 = arith.ori %acc, %above_one : i1
        scf.yield %acc2 : i1
      }
      return %any : i1
    }
  }
}
