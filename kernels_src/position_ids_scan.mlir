// position_ids_scan: cu_seqlens and the longest sequence from position ids
// [B, S] (DataCollatorWithFlattening's packing), in one launch.
// @dtype T: i64 i32
// @constexpr BLOCK = 256 in 32..1024
// @constexpr STRICT = 1 in 0..1
//
// Kernel ABI, the PTX parameters in order (pointers are .u64 global addresses):
//   positions  T*    [B, S] at any strides ([N] and [1, N] are B = 1)
//   B, S       i64   the shape
//   stride_b   i64   row stride, in elements
//   stride_s   i64   column stride, in elements
//   cu_seqlens i32*  out, room for B*S+1: 0, then the running sums of the
//                    sequence lengths (the first D+1 are written)
//   summary    i64*  out, 8 entries: tokens (B*S), D (sequences), longest
//                    sequence, first violation's flat position (-1: none),
//                    its value, the value before it, the violation kind (0
//                    none, 2 not a +1 step with STRICT), the smallest position
//                    (0 when there are no tokens)
// Launch: gridDim = (1, 1, 1), blockDim = (BLOCK, 1, 1) (.reqntid).
//
// How it works: docs/kernels.md#position_ids_scan.
module {
  gpu.module @packjit {
    gpu.func @position_ids_scan(%positions: !llvm.ptr<1>, %B: i64, %S: i64,
                                %stride_b: i64, %stride_s: i64,
                                %cu_seqlens: !llvm.ptr<1>, %summary: !llvm.ptr<1>,
                                %block: i64 {packjit.constexpr = "BLOCK"},
                                %strict: i1 {packjit.constexpr = "STRICT"},
                                %unsigned: i1 {packjit.constexpr = "T_UNSIGNED"})
        workgroup(%sum_buf: memref<1024xi64, #gpu.address_space<workgroup>>,
                  %max_buf: memref<1024xi64, #gpu.address_space<workgroup>>)
        kernel attributes {packjit.block = "BLOCK"} {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c3 = arith.constant 3 : i64
      %c4 = arith.constant 4 : i64
      %c5 = arith.constant 5 : i64
      %c6 = arith.constant 6 : i64
      %c7 = arith.constant 7 : i64
      %cm1 = arith.constant -1 : i64
      %lowest = arith.constant -9223372036854775807 : i64
      %tid = gpu.thread_id x
      %t = arith.index_cast %tid : index to i64
      %last_slot = arith.subi %block, %c1 : i64
      %last = arith.index_cast %last_slot : i64 to index
      %n = arith.muli %B, %S : i64
      %is_leader = arith.cmpi eq, %t, %c0 : i64

      // Pass 1: the smallest position (as the max of negated values).
      %my_neg_min = scf.for %p = %t to %n step %block iter_args(%m = %lowest) -> (i64) : i64 {
        %b = arith.divsi %p, %S : i64
        %row_start = arith.muli %b, %S : i64
        %s = arith.subi %p, %row_start : i64
        %v = func.call @load_token(%positions, %b, %s, %stride_b, %stride_s, %unsigned)
            : (!llvm.ptr<1>, i64, i64, i64, i64, i1) -> i64
        %neg = arith.subi %c0, %v : i64
        %m2 = arith.maxsi %m, %neg : i64
        scf.yield %m2 : i64
      }
      memref.store %c0, %sum_buf[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
      memref.store %my_neg_min, %max_buf[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
      func.call @block_scan(%sum_buf, %max_buf, %t, %block)
          : (memref<1024xi64, #gpu.address_space<workgroup>>,
             memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      %neg_min = memref.load %max_buf[%last] : memref<1024xi64, #gpu.address_space<workgroup>>
      gpu.barrier
      %any = arith.cmpi sgt, %n, %c0 : i64
      %min_raw = arith.subi %c0, %neg_min : i64
      %min_pos = arith.select %any, %min_raw, %c0 : i64

      // Pass 2: sequence starts and the first violation.
      %docs, %violation = scf.for %chunk = %c0 to %n step %block
          iter_args(%docs_before = %c0, %first_violation = %cm1) -> (i64, i64) : i64 {
        %p = arith.addi %chunk, %t : i64
        %valid = arith.cmpi slt, %p, %n : i64
        %b = arith.divsi %p, %S : i64
        %row_start = arith.muli %b, %S : i64
        %s = arith.subi %p, %row_start : i64
        %at_row_start = arith.cmpi eq, %s, %c0 : i64
        %v, %prev_v = scf.if %valid -> (i64, i64) {
          %x = func.call @load_token(%positions, %b, %s, %stride_b, %stride_s, %unsigned)
              : (!llvm.ptr<1>, i64, i64, i64, i64, i1) -> i64
          %prev = scf.if %at_row_start -> (i64) {
            scf.yield %c0 : i64
          } else {
            %s_before = arith.subi %s, %c1 : i64
            %y = func.call @load_token(%positions, %b, %s_before, %stride_b, %stride_s, %unsigned)
                : (!llvm.ptr<1>, i64, i64, i64, i64, i1) -> i64
            scf.yield %y : i64
          }
          scf.yield %x, %prev : i64, i64
        } else {
          scf.yield %c0, %c0 : i64, i64
        }
        %is_min = arith.cmpi eq, %v, %min_pos : i64
        %start_raw = arith.ori %at_row_start, %is_min : i1
        %starts = arith.andi %start_raw, %valid : i1
        %expected = arith.addi %prev_v, %c1 : i64
        %not_step = arith.cmpi ne, %v, %expected : i64
        %true_c = arith.constant true
        %continues = arith.xori %starts, %true_c : i1
        %continues_valid = arith.andi %continues, %valid : i1
        %bad_step = arith.andi %continues_valid, %not_step : i1
        %violates = arith.andi %bad_step, %strict : i1

        %start_one = arith.extui %starts : i1 to i64
        %neg_p = arith.subi %c0, %p : i64
        %viol_key = arith.select %violates, %neg_p, %lowest : i64
        memref.store %start_one, %sum_buf[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
        memref.store %viol_key, %max_buf[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
        func.call @block_scan(%sum_buf, %max_buf, %t, %block)
            : (memref<1024xi64, #gpu.address_space<workgroup>>,
               memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
        %docs_inclusive = memref.load %sum_buf[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
        %doc_slot = arith.subi %docs_inclusive, %start_one : i64
        %chunk_docs = memref.load %sum_buf[%last] : memref<1024xi64, #gpu.address_space<workgroup>>
        %chunk_key = memref.load %max_buf[%last] : memref<1024xi64, #gpu.address_space<workgroup>>
        gpu.barrier

        scf.if %starts {
          %d = arith.addi %docs_before, %doc_slot : i64
          %ptr = llvm.getelementptr %cu_seqlens[%d] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
          %p32 = arith.trunci %p : i64 to i32
          llvm.store %p32, %ptr : i32, !llvm.ptr<1>
        }
        %chunk_violation_found = arith.cmpi ne, %chunk_key, %lowest : i64
        %chunk_violation = arith.subi %c0, %chunk_key : i64
        %none_yet = arith.cmpi eq, %first_violation, %cm1 : i64
        %take = arith.andi %none_yet, %chunk_violation_found : i1
        %is_it = arith.cmpi eq, %chunk_violation, %p : i64
        %mine_raw = arith.andi %take, %is_it : i1
        %mine = arith.andi %mine_raw, %violates : i1
        scf.if %mine {
          func.call @store_summary(%summary, %c3, %p) : (!llvm.ptr<1>, i64, i64) -> ()
          func.call @store_summary(%summary, %c4, %v) : (!llvm.ptr<1>, i64, i64) -> ()
          func.call @store_summary(%summary, %c5, %prev_v) : (!llvm.ptr<1>, i64, i64) -> ()
          func.call @store_summary(%summary, %c6, %c2) : (!llvm.ptr<1>, i64, i64) -> ()
        }
        %next_violation = arith.select %take, %chunk_violation, %first_violation : i64
        %next_docs = arith.addi %docs_before, %chunk_docs : i64
        scf.yield %next_docs, %next_violation : i64, i64
      }

      scf.if %is_leader {
        %ptr = llvm.getelementptr %cu_seqlens[%docs] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
        %n32 = arith.trunci %n : i64 to i32
        llvm.store %n32, %ptr : i32, !llvm.ptr<1>
        func.call @store_summary(%summary, %c0, %n) : (!llvm.ptr<1>, i64, i64) -> ()
        func.call @store_summary(%summary, %c1, %docs) : (!llvm.ptr<1>, i64, i64) -> ()
        func.call @store_summary(%summary, %c7, %min_pos) : (!llvm.ptr<1>, i64, i64) -> ()
        %clean = arith.cmpi eq, %violation, %cm1 : i64
        scf.if %clean {
          func.call @store_summary(%summary, %c3, %cm1) : (!llvm.ptr<1>, i64, i64) -> ()
          func.call @store_summary(%summary, %c4, %c0) : (!llvm.ptr<1>, i64, i64) -> ()
          func.call @store_summary(%summary, %c5, %c0) : (!llvm.ptr<1>, i64, i64) -> ()
          func.call @store_summary(%summary, %c6, %c0) : (!llvm.ptr<1>, i64, i64) -> ()
        }
      }
      // cu_seqlens is complete and visible to the block after this barrier.
      gpu.barrier
      %longest_mine = scf.for %d = %t to %docs step %block iter_args(%m = %c0) -> (i64) : i64 {
        %lo_ptr = llvm.getelementptr %cu_seqlens[%d] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
        %d1 = arith.addi %d, %c1 : i64
        %hi_ptr = llvm.getelementptr %cu_seqlens[%d1] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
        %lo = llvm.load %lo_ptr : !llvm.ptr<1> -> i32
        %hi = llvm.load %hi_ptr : !llvm.ptr<1> -> i32
        %len32 = arith.subi %hi, %lo : i32
        %len = arith.extsi %len32 : i32 to i64
        %m2 = arith.maxsi %m, %len : i64
        scf.yield %m2 : i64
      }
      memref.store %c0, %sum_buf[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
      memref.store %longest_mine, %max_buf[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
      func.call @block_scan(%sum_buf, %max_buf, %t, %block)
          : (memref<1024xi64, #gpu.address_space<workgroup>>,
             memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      scf.if %is_leader {
        %longest = memref.load %max_buf[%last] : memref<1024xi64, #gpu.address_space<workgroup>>
        func.call @store_summary(%summary, %c2, %longest) : (!llvm.ptr<1>, i64, i64) -> ()
      }
      gpu.return
    }
    // The token at row b, column s, widened to i64 (zero-extended for bool/u8).
    func.func private @load_token(%mask: !llvm.ptr<1>, %b: i64, %s: i64,
                                  %stride_b: i64, %stride_s: i64,
                                  %unsigned: i1) -> i64 {
      %row_offset = arith.muli %b, %stride_b : i64
      %col_offset = arith.muli %s, %stride_s : i64
      %offset = arith.addi %row_offset, %col_offset : i64
      %ptr = llvm.getelementptr %mask[%offset] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
      %x = llvm.load %ptr : !llvm.ptr<1> -> !packjit.T
      %signed_value = arith.index_cast %x : !packjit.T to index
      %unsigned_value = arith.index_castui %x : !packjit.T to index
      %value = arith.select %unsigned, %unsigned_value, %signed_value : index
      %wide = arith.index_cast %value : index to i64
      return %wide : i64
    }

    // Inclusive Hillis-Steele scan of the block's entries: sums[t] becomes
    // the sum of sums[0..t], maxes[t] the max of maxes[0..t]. Every thread
    // of the block must call it; it starts and ends with a barrier.
    func.func private @block_scan(%sums: memref<1024xi64, #gpu.address_space<workgroup>>,
                                  %maxes: memref<1024xi64, #gpu.address_space<workgroup>>,
                                  %t: i64, %block: i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %lowest = arith.constant -9223372036854775807 : i64
      %tid = arith.index_cast %t : i64 to index
      gpu.barrier
      %done = scf.while (%offset = %c1) : (i64) -> i64 {
        %more = arith.cmpi slt, %offset, %block : i64
        scf.condition(%more) %offset : i64
      } do {
      ^bb0(%o: i64):
        %has_left = arith.cmpi sge, %t, %o : i64
        %left_sum, %left_max = scf.if %has_left -> (i64, i64) {
          %src = arith.subi %t, %o : i64
          %src_index = arith.index_cast %src : i64 to index
          %x = memref.load %sums[%src_index] : memref<1024xi64, #gpu.address_space<workgroup>>
          %y = memref.load %maxes[%src_index] : memref<1024xi64, #gpu.address_space<workgroup>>
          scf.yield %x, %y : i64, i64
        } else {
          scf.yield %c0, %lowest : i64, i64
        }
        gpu.barrier
        %my_sum = memref.load %sums[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
        %my_max = memref.load %maxes[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
        %new_sum = arith.addi %my_sum, %left_sum : i64
        %new_max = arith.maxsi %my_max, %left_max : i64
        memref.store %new_sum, %sums[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
        memref.store %new_max, %maxes[%tid] : memref<1024xi64, #gpu.address_space<workgroup>>
        gpu.barrier
        %next = arith.muli %o, %c2 : i64
        scf.yield %next : i64
      }
      return
    }

    func.func private @store_summary(%summary: !llvm.ptr<1>, %slot: i64, %value: i64) {
      %ptr = llvm.getelementptr %summary[%slot] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
      llvm.store %value, %ptr : i64, !llvm.ptr<1>
      return
    }
  }
}
