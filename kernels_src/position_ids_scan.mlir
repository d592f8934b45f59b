// position_ids_scan: cu_seqlens and the longest sequence from position ids
// [B, S] (DataCollatorWithFlattening's packing), in one pass over the ids.
// @dtype T: i64 i32
// @constexpr BLOCK = 256 in 32..1024 multiple_of 32
// @constexpr STRICT = 1 in 0..1
// @constexpr PADDED = 0 in 0..1
// @constexpr CHUNKS = 1 in 1..4
//
// Kernel ABI, the PTX parameters in order (pointers are .u64 global addresses):
//   positions  T*    [B, S], contiguous, 16-byte aligned
//   N          i64   B*S (1 <= N < 2^31)
//   S          i64   the row length
//   smallest   T*    without STRICT: the smallest position id (one element
//                    on the device); unused with STRICT (pass 0)
//   cu_seqlens i32*  out, room for max_docs+1: cu_seqlens[d] for d <= min(D,
//                    max_docs); with PADDED, (D, max_docs] is filled with N
//   max_docs   i64   see cu_seqlens (N without PADDED)
//   summary    i64*  out, 4 entries: N, D (sequences), the longest sequence,
//                    invalid (STRICT: 1 when a position inside a sequence is
//                    not the one before it + 1, else 0)
//   workspace  i64*  in/out, 12 + gridDim.x words, zero before the first
//                    launch; every launch leaves it zero again (no memset).
//                    One launch at a time per workspace.
//   mailbox    i64*  without PADDED: 8 words of host memory mapped for the
//                    device: the block that finishes last copies the summary
//                    into words 0..3, then (after a system fence) writes
//                    `sequence` into word 4. Unused with PADDED (pass 0).
//   sequence   i64   the value for mailbox word 4
// Launch: gridDim.x = ceil(N / TILE), TILE = BLOCK * CHUNKS * 64 / sizeof(T)
// tokens (each thread reads CHUNKS consecutive 64-byte chunks),
// blockDim = (BLOCK, 1, 1) (.reqntid).
//
// How it works (the start rule, the look-back, the finishing block):
// docs/kernels.md#position_ids_scan.
module {
  gpu.module @packjit {
    // @include "lib/chunk.mlir"
    // @include "lib/gpu.mlir"
    gpu.func @position_ids_scan(%positions: !llvm.ptr<1>, %N: i64, %S: i64,
                                %smallest: !llvm.ptr<1>,
                                %cu_seqlens: !llvm.ptr<1>, %max_docs: i64,
                                %summary: !llvm.ptr<1>, %workspace: !llvm.ptr<1>,
                                %mailbox: !llvm.ptr<1>, %sequence: i64,
                                %block: i64 {packjit.constexpr = "BLOCK"},
                                %strict: i1 {packjit.constexpr = "STRICT"},
                                %padded: i1 {packjit.constexpr = "PADDED"},
                                %chunks: i64 {packjit.constexpr = "CHUNKS"})
        workgroup(%shared: memref<256xi64, #gpu.address_space<workgroup>>)
        kernel attributes {packjit.block = "BLOCK", packjit.threads_per_sm = 1280 : i64} {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c5 = arith.constant 5 : i64
      %c31 = arith.constant 31 : i64
      %c64 = arith.constant 64 : i64
      %cm1 = arith.constant -1 : i64
      %false = arith.constant false
      %true = arith.constant true

      %tid = gpu.thread_id x
      %t = arith.index_cast %tid : index to i64
      %bid = gpu.block_id x
      %tile = arith.index_cast %bid : index to i64
      %gdim = gpu.grid_dim x
      %tiles = arith.index_cast %gdim : index to i64
      %lane = arith.andi %t, %c31 : i64
      %warp = arith.shrui %t, %c5 : i64
      %warps = arith.shrui %block, %c5 : i64
      %is_thread0 = arith.cmpi eq, %t, %c0 : i64
      %is_lane0 = arith.cmpi eq, %lane, %c0 : i64
      %is_lane31 = arith.cmpi eq, %lane, %c31 : i64
      %is_warp0 = arith.cmpi eq, %warp, %c0 : i64

      // sizeof(T), folded by LLVM; CHUNKS chunks of 64 bytes per thread.
      %null = llvm.mlir.zero : !llvm.ptr<1>
      %one_past = llvm.getelementptr %null[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, !packjit.T
      %tbytes = llvm.ptrtoint %one_past : !llvm.ptr<1> to i64
      %chunk_tokens = arith.divui %c64, %tbytes : i64
      %per_thread = arith.muli %chunk_tokens, %chunks : i64
      %tile_tokens = arith.muli %block, %per_thread : i64
      %tile_base = arith.muli %tile, %tile_tokens : i64
      %my_base = arith.muli %t, %per_thread : i64
      %p0 = arith.addi %tile_base, %my_base : i64

      // Without STRICT a sequence starts where the id is the smallest one.
      %least = scf.if %strict -> (i64) {
        scf.yield %c0 : i64
      } else {
        %x = llvm.load %smallest : !llvm.ptr<1> -> !packjit.T
        %y = arith.index_cast %x : !packjit.T to index
        %z = arith.index_cast %y : index to i64
        scf.yield %z : i64
      }
      // The column of the thread's first token: a 32-bit remainder (p0 <
      // 2^32, S < 2^31; the 64-bit one is a subroutine call).
      %p0_32 = arith.trunci %p0 : i64 to i32
      %S_32 = arith.trunci %S : i64 to i32
      %s0_32 = arith.remui %p0_32, %S_32 : i32
      %s0 = arith.extui %s0_32 : i32 to i64

      // Pass 1, chunk by chunk over the registers: which tokens start a
      // sequence (bit j of `starts`), the last start, and (STRICT) the
      // smallest id and the largest id that breaks a row's +1 steps. The
      // first token waits for the token before it (below); the ids die here:
      // pass 2 needs only the bits.
      %rec:7 = scf.for %c = %c0 to %chunks step %c1
          iter_args(%prev_c = %c0, %s_c = %s0, %starts_c = %c0, %last_c = %cm1,
                    %least_key_c = %c0, %break_key_c = %c0, %first_c = %c0)
          -> (i64, i64, i64, i64, i64, i64, i64) : i64 {
        %chunk_first = arith.muli %c, %chunk_tokens : i64
        %pc = arith.addi %p0, %chunk_first : i64
        %full, %w0, %w1, %w2, %w3, %w4, %w5, %w6, %w7 = func.call @load_chunk(%positions, %pc, %chunk_tokens, %N, %tbytes, %c64)
            : (!llvm.ptr<1>, i64, i64, i64, i64, i64) -> (i1, i64, i64, i64, i64, i64, i64, i64, i64)
        %in_chunk:7 = scf.for %j = %c0 to %chunk_tokens step %c1
            iter_args(%prev = %prev_c, %s = %s_c, %starts = %starts_c, %last = %last_c,
                      %least_key = %least_key_c, %break_key = %break_key_c, %first = %first_c)
            -> (i64, i64, i64, i64, i64, i64, i64) : i64 {
          %jj = arith.addi %chunk_first, %j : i64
          %p = arith.addi %p0, %jj : i64
          %v = func.call @token(%positions, %full, %w0, %w1, %w2, %w3, %w4, %w5, %w6, %w7,
                                %j, %p, %N, %tbytes, %false)
              : (!llvm.ptr<1>, i1, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i1) -> i64
          %valid = arith.cmpi slt, %p, %N : i64
          %start_any, %breaks_any = func.call @classify(%v, %prev, %s, %least, %strict, %valid)
              : (i64, i64, i64, i64, i1, i1) -> (i1, i1)
          // Folded once unrolled: token 0 is classified after the loop.
          %is_first = arith.cmpi eq, %jj, %c0 : i64
          %not_first = arith.xori %is_first, %true : i1
          %start = arith.andi %start_any, %not_first : i1
          %breaks = arith.andi %breaks_any, %not_first : i1
          %one = arith.extui %start : i1 to i64
          %bit = arith.shli %one, %jj : i64
          %starts2 = arith.ori %starts, %bit : i64
          %last2 = arith.select %start, %p, %last : i64
          // The smallest id matters only to STRICT's validity check.
          %lk = func.call @least_key(%v) : (i64) -> i64
          %lk_max = arith.maxui %least_key, %lk : i64
          %counts_least = arith.andi %valid, %strict : i1
          %least_key2 = arith.select %counts_least, %lk_max, %least_key : i64
          %bk = func.call @break_key(%v) : (i64) -> i64
          %bk_max = arith.maxui %break_key, %bk : i64
          %break_key2 = arith.select %breaks, %bk_max, %break_key : i64
          %s2 = func.call @next_column(%s, %S) : (i64, i64) -> i64
          %first2 = arith.select %is_first, %v, %first : i64
          scf.yield %v, %s2, %starts2, %last2, %least_key2, %break_key2, %first2
              : i64, i64, i64, i64, i64, i64, i64
        }
        scf.yield %in_chunk#0, %in_chunk#1, %in_chunk#2, %in_chunk#3, %in_chunk#4, %in_chunk#5, %in_chunk#6
            : i64, i64, i64, i64, i64, i64, i64
      }

      // The token before the thread's first: the previous lane's last token
      // (lane 0 reads it), then token 0's start bit and keys.
      %in_range = arith.cmpi slt, %p0, %N : i64
      %from_left = func.call @shfl64(%rec#0, %c1, %c0) : (i64, i64, i64) -> i64
      %has_before = arith.cmpi sgt, %p0, %c0 : i64
      %read_before = arith.andi %is_lane0, %has_before : i1
      %read_before_valid = arith.andi %read_before, %in_range : i1
      %before = scf.if %read_before_valid -> (i64) {
        %pb = arith.subi %p0, %c1 : i64
        %ptr = llvm.getelementptr %positions[%pb] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
        %x = llvm.load %ptr : !llvm.ptr<1> -> !packjit.T
        %y = arith.index_cast %x : !packjit.T to index
        %z = arith.index_cast %y : index to i64
        scf.yield %z : i64
      } else {
        scf.yield %from_left : i64
      }
      %start0, %breaks0 = func.call @classify(%rec#6, %before, %s0, %least, %strict, %in_range)
          : (i64, i64, i64, i64, i1, i1) -> (i1, i1)
      %bit0 = arith.extui %start0 : i1 to i64
      %start_bits = arith.ori %rec#2, %bit0 : i64
      %no_later_start = arith.cmpi slt, %rec#3, %c0 : i64
      %only_first = arith.andi %start0, %no_later_start : i1
      %last_start = arith.select %only_first, %p0, %rec#3 : i64
      %bk0 = func.call @break_key(%rec#6) : (i64) -> i64
      %bk0_max = arith.maxui %rec#5, %bk0 : i64
      %break_key = arith.select %breaks0, %bk0_max, %rec#5 : i64
      %starts = llvm.intr.ctpop(%start_bits) : (i64) -> i64

      // The records scanned within the warp; lane 31 keeps the warp's total.
      %inc:2 = func.call @warp_scan_pair(%starts, %last_start, %lane) : (i64, i64, i64) -> (i64, i64)
      %left_c = func.call @shfl64(%inc#0, %c1, %c0) : (i64, i64, i64) -> i64
      %left_l = func.call @shfl64(%inc#1, %c1, %c0) : (i64, i64, i64) -> i64
      %lane_c = arith.select %is_lane0, %c0, %left_c : i64
      %lane_l = arith.select %is_lane0, %cm1, %left_l : i64
      scf.if %is_lane31 {
        %at = arith.muli %warp, %c2 : i64
        func.call @store_pair(%shared, %at, %inc#0, %inc#1)
            : (memref<256xi64, #gpu.address_space<workgroup>>, i64, i64, i64) -> ()
      }
      gpu.barrier

      // Warp 0: the warps' prefixes, then the tile's by decoupled look-back.
      scf.if %is_warp0 {
        func.call @scan_tile(%shared, %workspace, %tile, %tiles, %lane, %warps)
            : (memref<256xi64, #gpu.address_space<workgroup>>, !llvm.ptr<1>, i64, i64, i64, i64) -> ()
      }
      gpu.barrier

      // The thread's exact prefix: tile, then warp, then the lanes before it.
      %c128 = arith.constant 128 : i64
      %tp:2 = func.call @load_pair(%shared, %c128) : (memref<256xi64, #gpu.address_space<workgroup>>, i64) -> (i64, i64)
      %wp_at0 = arith.muli %warp, %c2 : i64
      %wp_at = arith.addi %wp_at0, %c64 : i64
      %wp:2 = func.call @load_pair(%shared, %wp_at) : (memref<256xi64, #gpu.address_space<workgroup>>, i64) -> (i64, i64)
      %tw:2 = func.call @combine_pair(%tp#0, %tp#1, %wp#0, %wp#1) : (i64, i64, i64, i64) -> (i64, i64)
      %pre:2 = func.call @combine_pair(%tw#0, %tw#1, %lane_c, %lane_l) : (i64, i64, i64, i64) -> (i64, i64)

      // Pass 2 over the set start bits: each start's cu_seqlens entry and
      // the sequence it ends.
      %out:4 = scf.while (%bits = %start_bits, %d = %pre#0, %last = %pre#1, %longest = %c0)
          : (i64, i64, i64, i64) -> (i64, i64, i64, i64) {
        %more = arith.cmpi ne, %bits, %c0 : i64
        scf.condition(%more) %bits, %d, %last, %longest : i64, i64, i64, i64
      } do {
      ^bb0(%bits: i64, %d: i64, %last: i64, %longest: i64):
        %j = "llvm.intr.cttz"(%bits) <{is_zero_poison = true}> : (i64) -> i64
        %p = arith.addi %p0, %j : i64
        %fits = arith.cmpi sle, %d, %max_docs : i64
        scf.if %fits {
          %ptr = llvm.getelementptr %cu_seqlens[%d] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
          %p32 = arith.trunci %p : i64 to i32
          llvm.store %p32, %ptr : i32, !llvm.ptr<1>
        }
        %has_last = arith.cmpi sge, %last, %c0 : i64
        %length = arith.subi %p, %last : i64
        %longer = arith.maxsi %longest, %length : i64
        %longest2 = arith.select %has_last, %longer, %longest : i64
        %d2 = arith.addi %d, %c1 : i64
        %lowest_cleared = arith.subi %bits, %c1 : i64
        %bits2 = arith.andi %bits, %lowest_cleared : i64
        scf.yield %bits2, %d2, %p, %longest2 : i64, i64, i64, i64
      }

      // The block's longest sequence and keys, then the workspace's.
      %wmax:3 = func.call @warp_umax3(%out#3, %rec#4, %break_key) : (i64, i64, i64) -> (i64, i64, i64)
      scf.if %is_lane0 {
        %c136 = arith.constant 136 : i64
        %c168 = arith.constant 168 : i64
        %c200 = arith.constant 200 : i64
        %a0 = arith.addi %warp, %c136 : i64
        %a1 = arith.addi %warp, %c168 : i64
        %a2 = arith.addi %warp, %c200 : i64
        func.call @store_shared(%shared, %a0, %wmax#0) : (memref<256xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
        func.call @store_shared(%shared, %a1, %wmax#1) : (memref<256xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
        func.call @store_shared(%shared, %a2, %wmax#2) : (memref<256xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      }
      gpu.barrier
      scf.if %is_thread0 {
        func.call @finish_block(%shared, %workspace, %cu_seqlens, %N, %max_docs, %tile, %tiles, %warps)
            : (memref<256xi64, #gpu.address_space<workgroup>>, !llvm.ptr<1>, !llvm.ptr<1>, i64, i64, i64, i64, i64) -> ()
      }
      gpu.barrier
      %c232 = arith.constant 232 : i64
      %last_flag = func.call @load_shared(%shared, %c232) : (memref<256xi64, #gpu.address_space<workgroup>>, i64) -> i64
      %finishes_last = arith.cmpi ne, %last_flag, %c0 : i64
      scf.if %finishes_last {
        func.call @finish_launch(%workspace, %summary, %cu_seqlens, %mailbox, %sequence, %N,
                                 %max_docs, %strict, %padded, %t, %block, %tiles)
            : (!llvm.ptr<1>, !llvm.ptr<1>, !llvm.ptr<1>, !llvm.ptr<1>, i64, i64, i64, i1, i1, i64,
               i64, i64) -> ()
      }
      gpu.return
    }

    // Whether the token starts a sequence, and (STRICT) whether it breaks
    // its row's +1 steps away from a row start. With STRICT a sequence
    // starts at every such break: valid ids break only where they are the
    // smallest id (the finishing block checks that), which is where
    // transformers starts one.
    func.func private @classify(%v: i64, %prev: i64, %s: i64, %least: i64, %strict: i1,
                                %valid: i1) -> (i1, i1) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %true = arith.constant true
      %row_start = arith.cmpi eq, %s, %c0 : i64
      %step = arith.addi %prev, %c1 : i64
      %not_step = arith.cmpi ne, %v, %step : i64
      %is_least = arith.cmpi eq, %v, %least : i64
      %cut = arith.select %strict, %not_step, %is_least : i1
      %start_any = arith.ori %row_start, %cut : i1
      %start = arith.andi %start_any, %valid : i1
      %inside = arith.xori %row_start, %true : i1
      %inside_valid = arith.andi %inside, %valid : i1
      %break_inside = arith.andi %inside_valid, %not_step : i1
      %breaks = arith.andi %break_inside, %strict : i1
      return %start, %breaks : i1, i1
    }

    // The column after `s` in a row of S tokens.
    func.func private @next_column(%s: i64, %S: i64) -> i64 {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %s1 = arith.addi %s, %c1 : i64
      %wraps = arith.cmpi eq, %s1, %S : i64
      %s2 = arith.select %wraps, %c0, %s1 : i64
      return %s2 : i64
    }

    // Unsigned keys whose max is the smallest id (least_key) or the largest
    // (break_key); 0, the identity of an unsigned max, stands for "none", so
    // a zeroed workspace word starts every max.
    func.func private @least_key(%v: i64) -> i64 {
      %highest = arith.constant 9223372036854775807 : i64
      %k = arith.xori %v, %highest : i64
      return %k : i64
    }
    func.func private @break_key(%v: i64) -> i64 {
      %lowest = arith.constant -9223372036854775808 : i64
      %k = arith.xori %v, %lowest : i64
      return %k : i64
    }

    // (count, last start) records: the right one's last start wins when it
    // has a start. Associative, identity (0, -1).
    func.func private @combine_pair(%lc: i64, %ll: i64, %rc: i64, %rl: i64) -> (i64, i64) {
      %c0 = arith.constant 0 : i64
      %c = arith.addi %lc, %rc : i64
      %right_has = arith.cmpi sgt, %rc, %c0 : i64
      %l = arith.select %right_has, %rl, %ll : i64
      return %c, %l : i64, i64
    }

    // Inclusive scan of the lanes' records (five shuffles up).
    func.func private @warp_scan_pair(%count: i64, %last: i64, %lane: i64) -> (i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c5 = arith.constant 5 : i64
      %r:2 = scf.for %step = %c0 to %c5 step %c1 iter_args(%c = %count, %l = %last)
          -> (i64, i64) : i64 {
        %offset = arith.shli %c1, %step : i64
        %oc = func.call @shfl64(%c, %offset, %c0) : (i64, i64, i64) -> i64
        %ol = func.call @shfl64(%l, %offset, %c0) : (i64, i64, i64) -> i64
        %u:2 = func.call @combine_pair(%oc, %ol, %c, %l) : (i64, i64, i64, i64) -> (i64, i64)
        %has_left = arith.cmpi sge, %lane, %offset : i64
        %c2 = arith.select %has_left, %u#0, %c : i64
        %l2 = arith.select %has_left, %u#1, %l : i64
        scf.yield %c2, %l2 : i64, i64
      }
      return %r#0, %r#1 : i64, i64
    }

    // Lane 0 gets the warp's unsigned max of each of three values.
    func.func private @warp_umax3(%a: i64, %b: i64, %c: i64) -> (i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c5 = arith.constant 5 : i64
      %r:3 = scf.for %step = %c0 to %c5 step %c1 iter_args(%x = %a, %y = %b, %z = %c)
          -> (i64, i64, i64) : i64 {
        %offset = arith.shli %c1, %step : i64
        %ox = func.call @shfl64(%x, %offset, %c1) : (i64, i64, i64) -> i64
        %oy = func.call @shfl64(%y, %offset, %c1) : (i64, i64, i64) -> i64
        %oz = func.call @shfl64(%z, %offset, %c1) : (i64, i64, i64) -> i64
        %x2 = arith.maxui %x, %ox : i64
        %y2 = arith.maxui %y, %oy : i64
        %z2 = arith.maxui %z, %oz : i64
        scf.yield %x2, %y2, %z2 : i64, i64, i64
      }
      return %r#0, %r#1, %r#2 : i64, i64, i64
    }

    // Shared memory (%shared, i64 words):
    //   0..63     each warp's total (count, last start)
    //   64..127   each warp's exclusive prefix within the tile
    //   128..131  the tile's exclusive and inclusive prefixes
    //   136..167  each warp's longest sequence
    //   168..199  each warp's least_key
    //   200..231  each warp's break_key
    //   232       whether this block finishes the launch
    //
    // Warp 0, once the warp totals are stored: each warp's exclusive prefix,
    // then the tile's exclusive prefix (decoupled look-back) and inclusive
    // prefix, published for later tiles and stored for this block.
    func.func private @scan_tile(%shared: memref<256xi64, #gpu.address_space<workgroup>>,
                                 %workspace: !llvm.ptr<1>, %tile: i64, %tiles: i64,
                                 %lane: i64, %warps: i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c64 = arith.constant 64 : i64
      %c128 = arith.constant 128 : i64
      %c130 = arith.constant 130 : i64
      %cm1 = arith.constant -1 : i64
      %is_lane0 = arith.cmpi eq, %lane, %c0 : i64
      %holds_warp = arith.cmpi slt, %lane, %warps : i64
      %total_at = arith.muli %lane, %c2 : i64
      %wt:2 = scf.if %holds_warp -> (i64, i64) {
        %x:2 = func.call @load_pair(%shared, %total_at) : (memref<256xi64, #gpu.address_space<workgroup>>, i64) -> (i64, i64)
        scf.yield %x#0, %x#1 : i64, i64
      } else {
        scf.yield %c0, %cm1 : i64, i64
      }
      %wi:2 = func.call @warp_scan_pair(%wt#0, %wt#1, %lane) : (i64, i64, i64) -> (i64, i64)
      %left_c = func.call @shfl64(%wi#0, %c1, %c0) : (i64, i64, i64) -> i64
      %left_l = func.call @shfl64(%wi#1, %c1, %c0) : (i64, i64, i64) -> i64
      scf.if %holds_warp {
        %ex_c = arith.select %is_lane0, %c0, %left_c : i64
        %ex_l = arith.select %is_lane0, %cm1, %left_l : i64
        %at = arith.addi %total_at, %c64 : i64
        func.call @store_pair(%shared, %at, %ex_c, %ex_l)
            : (memref<256xi64, #gpu.address_space<workgroup>>, i64, i64, i64) -> ()
      }
      // The tile aggregate: the last warp's inclusive value, in every lane.
      %warps_m1 = arith.subi %warps, %c1 : i64
      %agg_c = func.call @shfl64(%wi#0, %warps_m1, %c2) : (i64, i64, i64) -> i64
      %agg_l = func.call @shfl64(%wi#1, %warps_m1, %c2) : (i64, i64, i64) -> i64
      %status = func.call @tile_status(%workspace, %tile) : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>
      %is_first_tile = arith.cmpi eq, %tile, %c0 : i64
      %pre:2 = scf.if %is_first_tile -> (i64, i64) {
        scf.yield %c0, %cm1 : i64, i64
      } else {
        scf.if %is_lane0 {
          func.call @publish(%status, %c1, %agg_c, %agg_l) : (!llvm.ptr<1>, i64, i64, i64) -> ()
        }
        %found:2 = func.call @look_back(%workspace, %tile, %lane)
            : (!llvm.ptr<1>, i64, i64) -> (i64, i64)
        scf.yield %found#0, %found#1 : i64, i64
      }
      %inc:2 = func.call @combine_pair(%pre#0, %pre#1, %agg_c, %agg_l) : (i64, i64, i64, i64) -> (i64, i64)
      scf.if %is_lane0 {
        %several = arith.cmpi sgt, %tiles, %c1 : i64
        scf.if %several {
          func.call @publish(%status, %c2, %inc#0, %inc#1) : (!llvm.ptr<1>, i64, i64, i64) -> ()
        }
        func.call @store_pair(%shared, %c128, %pre#0, %pre#1)
            : (memref<256xi64, #gpu.address_space<workgroup>>, i64, i64, i64) -> ()
        func.call @store_pair(%shared, %c130, %inc#0, %inc#1)
            : (memref<256xi64, #gpu.address_space<workgroup>>, i64, i64, i64) -> ()
      }
      return
    }

    // A tile's status: one word, kind << 62 | count << 31 | (last start + 1)
    // (kind 1: the tile's aggregate, 2: its inclusive prefix; N < 2^31 makes
    // both fields fit), so one load reads a whole status.
    func.func private @tile_status(%workspace: !llvm.ptr<1>, %tile: i64) -> !llvm.ptr<1> {
      %c12 = arith.constant 12 : i64
      %word = arith.addi %tile, %c12 : i64
      %ptr = llvm.getelementptr %workspace[%word] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
      return %ptr : !llvm.ptr<1>
    }

    func.func private @publish(%status: !llvm.ptr<1>, %kind: i64, %count: i64, %last: i64) {
      %c1 = arith.constant 1 : i64
      %c31 = arith.constant 31 : i64
      %c62 = arith.constant 62 : i64
      %k = arith.shli %kind, %c62 : i64
      %c = arith.shli %count, %c31 : i64
      %l = arith.addi %last, %c1 : i64
      %kc = arith.ori %k, %c : i64
      %word = arith.ori %kc, %l : i64
      llvm.store volatile %word, %status : i64, !llvm.ptr<1>
      return
    }

    // The exclusive prefix of tile `tile` (> 0): the warp reads the statuses
    // of 128 tiles at once (lane l: tiles top - l - 32 j, j = 0..3; before
    // tile 0 reads as an empty inclusive prefix), adds them up to the
    // nearest inclusive prefix, and moves 128 tiles back while there is none.
    // A step costs one round trip to L2, and the inclusive prefixes advance
    // by up to 128 tiles per step (docs/kernels.md#position_ids_scan).
    func.func private @look_back(%workspace: !llvm.ptr<1>, %tile: i64, %lane: i64) -> (i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c32 = arith.constant 32 : i64
      %c64 = arith.constant 64 : i64
      %c96 = arith.constant 96 : i64
      %c128 = arith.constant 128 : i64
      %cm1 = arith.constant -1 : i64
      %mask32 = arith.constant 4294967295 : i64
      %none = arith.constant 9223372036854775807 : i64
      %all = arith.constant -1 : i32
      %true = arith.constant true
      %top0 = arith.subi %tile, %c1 : i64
      %d1 = arith.addi %lane, %c32 : i64
      %d2 = arith.addi %lane, %c64 : i64
      %d3 = arith.addi %lane, %c96 : i64
      %found:3 = scf.while (%top = %top0, %acc_c = %c0, %acc_l = %cm1) : (i64, i64, i64) -> (i64, i64, i64) {
        // Spin until each of the 128 tiles has published something.
        %w:4 = scf.while (%unused = %c0) : (i64) -> (i64, i64, i64, i64) {
          %w0 = func.call @status_at(%workspace, %top, %lane) : (!llvm.ptr<1>, i64, i64) -> i64
          %w1 = func.call @status_at(%workspace, %top, %d1) : (!llvm.ptr<1>, i64, i64) -> i64
          %w2 = func.call @status_at(%workspace, %top, %d2) : (!llvm.ptr<1>, i64, i64) -> i64
          %w3 = func.call @status_at(%workspace, %top, %d3) : (!llvm.ptr<1>, i64, i64) -> i64
          %n0 = arith.cmpi ne, %w0, %c0 : i64
          %n1 = arith.cmpi ne, %w1, %c0 : i64
          %n2 = arith.cmpi ne, %w2, %c0 : i64
          %n3 = arith.cmpi ne, %w3, %c0 : i64
          %n01 = arith.andi %n0, %n1 : i1
          %n23 = arith.andi %n2, %n3 : i1
          %ready = arith.andi %n01, %n23 : i1
          %all_ready = nvvm.vote.sync all %all, %ready -> i1
          %again = arith.xori %all_ready, %true : i1
          scf.condition(%again) %w0, %w1, %w2, %w3 : i64, i64, i64, i64
        } do {
        ^bb0(%w0: i64, %w1: i64, %w2: i64, %w3: i64):
          scf.yield %c0 : i64
        }
        // The nearest inclusive prefix's distance (128: none).
        %i0 = func.call @inclusive_distance(%w#0, %lane) : (i64, i64) -> i64
        %i1 = func.call @inclusive_distance(%w#1, %d1) : (i64, i64) -> i64
        %i2 = func.call @inclusive_distance(%w#2, %d2) : (i64, i64) -> i64
        %i3 = func.call @inclusive_distance(%w#3, %d3) : (i64, i64) -> i64
        %i01 = arith.minsi %i0, %i1 : i64
        %i23 = arith.minsi %i2, %i3 : i64
        %i_mine = arith.minsi %i01, %i23 : i64
        %stop = func.call @warp_min(%i_mine) : (i64) -> i64
        // The starts of the tiles up to it, and the nearest last start.
        %s0:2 = func.call @contribution(%w#0, %lane, %stop) : (i64, i64, i64) -> (i64, i64)
        %s1:2 = func.call @contribution(%w#1, %d1, %stop) : (i64, i64, i64) -> (i64, i64)
        %s2:2 = func.call @contribution(%w#2, %d2, %stop) : (i64, i64, i64) -> (i64, i64)
        %s3:2 = func.call @contribution(%w#3, %d3, %stop) : (i64, i64, i64) -> (i64, i64)
        %c01 = arith.addi %s0#0, %s1#0 : i64
        %c23 = arith.addi %s2#0, %s3#0 : i64
        %c_mine = arith.addi %c01, %c23 : i64
        %sum = func.call @warp_sum(%c_mine) : (i64) -> i64
        %k01 = arith.minsi %s0#1, %s1#1 : i64
        %k23 = arith.minsi %s2#1, %s3#1 : i64
        %k_mine = arith.minsi %k01, %k23 : i64
        %key = func.call @warp_min(%k_mine) : (i64) -> i64
        %window_has = arith.cmpi ne, %key, %none : i64
        %last_bits = arith.andi %key, %mask32 : i64
        %last_found = arith.subi %last_bits, %c1 : i64
        %window_last = arith.select %window_has, %last_found, %cm1 : i64
        %acc_has = arith.cmpi sge, %acc_l, %c0 : i64
        %next_l = arith.select %acc_has, %acc_l, %window_last : i64
        %next_c = arith.addi %acc_c, %sum : i64
        %no_inclusive = arith.cmpi eq, %stop, %c128 : i64
        %next_top = arith.subi %top, %c128 : i64
        scf.condition(%no_inclusive) %next_top, %next_c, %next_l : i64, i64, i64
      } do {
      ^bb0(%top: i64, %acc_c: i64, %acc_l: i64):
        scf.yield %top, %acc_c, %acc_l : i64, i64, i64
      }
      return %found#1, %found#2 : i64, i64
    }

    // The status of the tile `distance` before `top`; before tile 0, an
    // empty inclusive prefix.
    func.func private @status_at(%workspace: !llvm.ptr<1>, %top: i64, %distance: i64) -> i64 {
      %c0 = arith.constant 0 : i64
      %c2 = arith.constant 2 : i64
      %c62 = arith.constant 62 : i64
      %idx = arith.subi %top, %distance : i64
      %before_first = arith.cmpi slt, %idx, %c0 : i64
      %w = scf.if %before_first -> (i64) {
        %empty_inclusive = arith.shli %c2, %c62 : i64
        scf.yield %empty_inclusive : i64
      } else {
        %ptr = func.call @tile_status(%workspace, %idx) : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>
        %x = llvm.load volatile %ptr : !llvm.ptr<1> -> i64
        scf.yield %x : i64
      }
      return %w : i64
    }

    // `distance` when the status is an inclusive prefix, else 128.
    func.func private @inclusive_distance(%word: i64, %distance: i64) -> i64 {
      %c2 = arith.constant 2 : i64
      %c62 = arith.constant 62 : i64
      %c128 = arith.constant 128 : i64
      %kind = arith.shrui %word, %c62 : i64
      %inclusive = arith.cmpi eq, %kind, %c2 : i64
      %d = arith.select %inclusive, %distance, %c128 : i64
      return %d : i64
    }

    // What a status at `distance` adds to the look-back when the nearest
    // inclusive prefix is at `stop`: its count (0 beyond `stop`), and the
    // key distance << 32 | (last start + 1) of its last start (the max i64
    // when it has none), so the smallest key names the nearest start.
    func.func private @contribution(%word: i64, %distance: i64, %stop: i64) -> (i64, i64) {
      %c0 = arith.constant 0 : i64
      %c31 = arith.constant 31 : i64
      %c32 = arith.constant 32 : i64
      %mask31 = arith.constant 2147483647 : i64
      %none = arith.constant 9223372036854775807 : i64
      %counts = arith.cmpi sle, %distance, %stop : i64
      %count_bits = arith.shrui %word, %c31 : i64
      %count_all = arith.andi %count_bits, %mask31 : i64
      %count = arith.select %counts, %count_all, %c0 : i64
      %last1 = arith.andi %word, %mask31 : i64
      %far = arith.shli %distance, %c32 : i64
      %key_some = arith.ori %far, %last1 : i64
      %has = arith.cmpi sgt, %count, %c0 : i64
      %key = arith.select %has, %key_some, %none : i64
      return %count, %key : i64, i64
    }

    // The warp's min of `x`, in every lane (shuffles down by 16, .., 1: a
    // lane whose source is past the warp reads its own value, which a min
    // ignores).
    func.func private @warp_min(%x: i64) -> i64 {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c5 = arith.constant 5 : i64
      %c16 = arith.constant 16 : i64
      %r = scf.for %step = %c0 to %c5 step %c1 iter_args(%acc = %x) -> (i64) : i64 {
        %offset = arith.shrui %c16, %step : i64
        %o = func.call @shfl64(%acc, %offset, %c1) : (i64, i64, i64) -> i64
        %acc2 = arith.minsi %acc, %o : i64
        scf.yield %acc2 : i64
      }
      %all = func.call @shfl64(%r, %c0, %c2) : (i64, i64, i64) -> i64
      return %all : i64
    }

    // The warp's sum of `x`, in every lane.
    func.func private @warp_sum(%x: i64) -> i64 {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c5 = arith.constant 5 : i64
      %c16 = arith.constant 16 : i64
      %r = scf.for %step = %c0 to %c5 step %c1 iter_args(%acc = %x) -> (i64) : i64 {
        %offset = arith.shrui %c16, %step : i64
        %o = func.call @shfl64(%acc, %offset, %c1) : (i64, i64, i64) -> i64
        %acc2 = arith.addi %acc, %o : i64
        scf.yield %acc2 : i64
      }
      // Shuffles down by 16, 8, .., 1 leave the whole sum in lane 0 (a lane
      // whose source is past the warp reads its own value, so the others
      // hold garbage).
      %all = func.call @shfl64(%r, %c0, %c2) : (i64, i64, i64) -> i64
      return %all : i64
    }

    // Thread 0 of every block, once each warp stored its maxes: the block's
    // longest sequence and keys into the workspace (unsigned max atomics,
    // whose identity 0 is what the workspace holds between launches); the
    // last tile also writes D and cu_seqlens[D] and ends the last sequence.
    // Then the block counts itself finished; the last one to do so is told
    // through shared word 232.
    func.func private @finish_block(%shared: memref<256xi64, #gpu.address_space<workgroup>>,
                                    %workspace: !llvm.ptr<1>, %cu_seqlens: !llvm.ptr<1>,
                                    %N: i64, %max_docs: i64, %tile: i64, %tiles: i64,
                                    %warps: i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c130 = arith.constant 130 : i64
      %c136 = arith.constant 136 : i64
      %c168 = arith.constant 168 : i64
      %c200 = arith.constant 200 : i64
      %c232 = arith.constant 232 : i64
      %m:3 = scf.for %w = %c0 to %warps step %c1 iter_args(%x = %c0, %y = %c0, %z = %c0)
          -> (i64, i64, i64) : i64 {
        %a0 = arith.addi %w, %c136 : i64
        %a1 = arith.addi %w, %c168 : i64
        %a2 = arith.addi %w, %c200 : i64
        %u = func.call @load_shared(%shared, %a0) : (memref<256xi64, #gpu.address_space<workgroup>>, i64) -> i64
        %v = func.call @load_shared(%shared, %a1) : (memref<256xi64, #gpu.address_space<workgroup>>, i64) -> i64
        %q = func.call @load_shared(%shared, %a2) : (memref<256xi64, #gpu.address_space<workgroup>>, i64) -> i64
        %x2 = arith.maxui %x, %u : i64
        %y2 = arith.maxui %y, %v : i64
        %z2 = arith.maxui %z, %q : i64
        scf.yield %x2, %y2, %z2 : i64, i64, i64
      }
      %last_tile = arith.subi %tiles, %c1 : i64
      %is_last_tile = arith.cmpi eq, %tile, %last_tile : i64
      %longest = scf.if %is_last_tile -> (i64) {
        %total:2 = func.call @load_pair(%shared, %c130) : (memref<256xi64, #gpu.address_space<workgroup>>, i64) -> (i64, i64)
        func.call @store_global(%workspace, %c1, %total#0) : (!llvm.ptr<1>, i64, i64) -> ()
        %fits = arith.cmpi sle, %total#0, %max_docs : i64
        scf.if %fits {
          %ptr = llvm.getelementptr %cu_seqlens[%total#0] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
          %n32 = arith.trunci %N : i64 to i32
          llvm.store %n32, %ptr : i32, !llvm.ptr<1>
        }
        %final = arith.subi %N, %total#1 : i64
        %l = arith.maxui %m#0, %final : i64
        scf.yield %l : i64
      } else {
        scf.yield %m#0 : i64
      }
      func.call @max_into(%workspace, %c0, %longest) : (!llvm.ptr<1>, i64, i64) -> ()
      %c2 = arith.constant 2 : i64
      %c3 = arith.constant 3 : i64
      func.call @max_into(%workspace, %c2, %m#1) : (!llvm.ptr<1>, i64, i64) -> ()
      func.call @max_into(%workspace, %c3, %m#2) : (!llvm.ptr<1>, i64, i64) -> ()
      func.call @fence() : () -> ()
      %c4 = arith.constant 4 : i64
      %done_ptr = llvm.getelementptr %workspace[%c4] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
      %finished_before = llvm.atomicrmw add %done_ptr, %c1 monotonic : !llvm.ptr<1>, i64
      %finishes_last = arith.cmpi eq, %finished_before, %last_tile : i64
      // Acquire (the last block only): its other threads see what every
      // block wrote once the barrier after this passes.
      scf.if %finishes_last {
        func.call @fence() : () -> ()
      }
      %flag = arith.extui %finishes_last : i1 to i64
      func.call @store_shared(%shared, %c232, %flag) : (memref<256xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      return
    }

    // Workspace header words: 0 the longest sequence, 1 D (the last tile's
    // plain store), 2 least_key, 3 break_key, 4 the finished-block count;
    // 8..11 the summary of launches that post it to the host.
    func.func private @max_into(%workspace: !llvm.ptr<1>, %slot: i64, %value: i64) {
      %c0 = arith.constant 0 : i64
      %some = arith.cmpi ne, %value, %c0 : i64
      scf.if %some {
        %ptr = llvm.getelementptr %workspace[%slot] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
        %old = llvm.atomicrmw umax %ptr, %value monotonic : !llvm.ptr<1>, i64
      }
      return
    }

    // The block that finished last (every thread): the summary, the tail of
    // cu_seqlens (PADDED) or the host's mailbox, and the workspace zeroed for
    // the next launch (every other block is done with it).
    func.func private @finish_launch(%workspace: !llvm.ptr<1>, %summary: !llvm.ptr<1>,
                                     %cu_seqlens: !llvm.ptr<1>, %mailbox: !llvm.ptr<1>,
                                     %sequence: i64, %N: i64, %max_docs: i64, %strict: i1,
                                     %padded: i1, %t: i64, %block: i64, %tiles: i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c3 = arith.constant 3 : i64
      %c12 = arith.constant 12 : i64
      %true = arith.constant true
      func.call @fence() : () -> ()
      %longest = func.call @load_global(%workspace, %c0) : (!llvm.ptr<1>, i64) -> i64
      %docs = func.call @load_global(%workspace, %c1) : (!llvm.ptr<1>, i64) -> i64
      %least_key = func.call @load_global(%workspace, %c2) : (!llvm.ptr<1>, i64) -> i64
      %break_key = func.call @load_global(%workspace, %c3) : (!llvm.ptr<1>, i64) -> i64
      // Invalid: some id inside a row breaks the +1 steps and is not the
      // smallest id (keys: the smallest is highest ^ least_key, the largest
      // break lowest ^ break_key; break_key 0 means no break).
      %highest = arith.constant 9223372036854775807 : i64
      %lowest = arith.constant -9223372036854775808 : i64
      %least = arith.xori %least_key, %highest : i64
      %largest_break = arith.xori %break_key, %lowest : i64
      %some_break = arith.cmpi ne, %break_key, %c0 : i64
      %above = arith.cmpi sgt, %largest_break, %least : i64
      %bad_break = arith.andi %some_break, %above : i1
      %bad = arith.andi %bad_break, %strict : i1
      %invalid = arith.extui %bad : i1 to i64
      %is_thread0 = arith.cmpi eq, %t, %c0 : i64
      scf.if %is_thread0 {
        func.call @store_global(%summary, %c0, %N) : (!llvm.ptr<1>, i64, i64) -> ()
        func.call @store_global(%summary, %c1, %docs) : (!llvm.ptr<1>, i64, i64) -> ()
        func.call @store_global(%summary, %c2, %longest) : (!llvm.ptr<1>, i64, i64) -> ()
        func.call @store_global(%summary, %c3, %invalid) : (!llvm.ptr<1>, i64, i64) -> ()
        %c4 = arith.constant 4 : i64
        func.call @store_global(%workspace, %c0, %c0) : (!llvm.ptr<1>, i64, i64) -> ()
        func.call @store_global(%workspace, %c2, %c0) : (!llvm.ptr<1>, i64, i64) -> ()
        func.call @store_global(%workspace, %c3, %c0) : (!llvm.ptr<1>, i64, i64) -> ()
        func.call @store_global(%workspace, %c4, %c0) : (!llvm.ptr<1>, i64, i64) -> ()
        %to_host = arith.xori %padded, %true : i1
        scf.if %to_host {
          func.call @post_summary(%summary, %mailbox, %sequence)
              : (!llvm.ptr<1>, !llvm.ptr<1>, i64) -> ()
        }
      }
      // Zero the tile statuses (a grid of one tile published none).
      %several = arith.cmpi sgt, %tiles, %c1 : i64
      scf.if %several {
        %end = arith.addi %tiles, %c12 : i64
        %from = arith.addi %t, %c12 : i64
        scf.for %w = %from to %end step %block : i64 {
          func.call @store_global(%workspace, %w, %c0) : (!llvm.ptr<1>, i64, i64) -> ()
        }
      }
      scf.if %padded {
        %n32 = arith.trunci %N : i64 to i32
        %first = arith.addi %docs, %c1 : i64
        %from = arith.addi %first, %t : i64
        %to = arith.addi %max_docs, %c1 : i64
        scf.for %d = %from to %to step %block : i64 {
          %ptr = llvm.getelementptr %cu_seqlens[%d] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
          llvm.store %n32, %ptr : i32, !llvm.ptr<1>
        }
      }
      return
    }

    // Summary words 0..3 into mailbox words 0..3, then (after a fence that
    // orders them for the host) `sequence` into word 4.
    func.func private @post_summary(%summary: !llvm.ptr<1>, %mailbox: !llvm.ptr<1>,
                                    %sequence: i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c3 = arith.constant 3 : i64
      %c4 = arith.constant 4 : i64
      %v0 = func.call @load_global(%summary, %c0) : (!llvm.ptr<1>, i64) -> i64
      %v1 = func.call @load_global(%summary, %c1) : (!llvm.ptr<1>, i64) -> i64
      %v2 = func.call @load_global(%summary, %c2) : (!llvm.ptr<1>, i64) -> i64
      %v3 = func.call @load_global(%summary, %c3) : (!llvm.ptr<1>, i64) -> i64
      func.call @store_global(%mailbox, %c0, %v0) : (!llvm.ptr<1>, i64, i64) -> ()
      func.call @store_global(%mailbox, %c1, %v1) : (!llvm.ptr<1>, i64, i64) -> ()
      func.call @store_global(%mailbox, %c2, %v2) : (!llvm.ptr<1>, i64, i64) -> ()
      func.call @store_global(%mailbox, %c3, %v3) : (!llvm.ptr<1>, i64, i64) -> ()
      llvm.inline_asm has_side_effects "fence.sc.sys;", "~{memory}" : () -> ()
      func.call @store_global(%mailbox, %c4, %sequence) : (!llvm.ptr<1>, i64, i64) -> ()
      return
    }

    func.func private @load_global(%base: !llvm.ptr<1>, %slot: i64) -> i64 {
      %ptr = llvm.getelementptr %base[%slot] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
      %x = llvm.load volatile %ptr : !llvm.ptr<1> -> i64
      return %x : i64
    }

    func.func private @store_global(%base: !llvm.ptr<1>, %slot: i64, %value: i64) {
      %ptr = llvm.getelementptr %base[%slot] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
      llvm.store volatile %value, %ptr : i64, !llvm.ptr<1>
      return
    }

    func.func private @store_shared(%shared: memref<256xi64, #gpu.address_space<workgroup>>,
                                    %at: i64, %value: i64) {
      %i = arith.index_cast %at : i64 to index
      memref.store %value, %shared[%i] : memref<256xi64, #gpu.address_space<workgroup>>
      return
    }

    func.func private @load_shared(%shared: memref<256xi64, #gpu.address_space<workgroup>>,
                                   %at: i64) -> i64 {
      %i = arith.index_cast %at : i64 to index
      %x = memref.load %shared[%i] : memref<256xi64, #gpu.address_space<workgroup>>
      return %x : i64
    }

    func.func private @store_pair(%shared: memref<256xi64, #gpu.address_space<workgroup>>,
                                  %at: i64, %count: i64, %last: i64) {
      %c1 = arith.constant 1 : i64
      %at1 = arith.addi %at, %c1 : i64
      func.call @store_shared(%shared, %at, %count) : (memref<256xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      func.call @store_shared(%shared, %at1, %last) : (memref<256xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      return
    }

    func.func private @load_pair(%shared: memref<256xi64, #gpu.address_space<workgroup>>,
                                 %at: i64) -> (i64, i64) {
      %c1 = arith.constant 1 : i64
      %at1 = arith.addi %at, %c1 : i64
      %count = func.call @load_shared(%shared, %at) : (memref<256xi64, #gpu.address_space<workgroup>>, i64) -> i64
      %last = func.call @load_shared(%shared, %at1) : (memref<256xi64, #gpu.address_space<workgroup>>, i64) -> i64
      return %count, %last : i64, i64
    }
  }
}
