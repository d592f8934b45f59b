// mask_scan: everything get_unpad_data returns, from an indexed attention
// mask [B, S], in one launch and one pass over the mask.
// @dtype T: i64 i32 i16 i8 u8 bool
// @constexpr BLOCK = 256 in 32..1024 multiple_of 32
// @constexpr STRICT = 1 in 0..1
// @constexpr PADDED = 0 in 0..1
// @constexpr SEQ = 0 in 0..2147483647
// @constexpr CHUNK = 32 one_of 32 64
//
// Kernel ABI, the PTX parameters in order (pointers are .u64 global addresses):
//   mask       T*    [B, S], contiguous, 16-byte aligned (bool and u8 read
//                    as unsigned bytes)
//   N          i64   B*S (< 2^31)
//   S          i64   the row length (ignored when SEQ != 0: then SEQ is S)
//   indices    i64*  out, room for N: the flat positions of the non-zero
//                    tokens, ascending, in [0, nnz); with PADDED, [nnz, N)
//                    is filled with -1
//   cu_seqlens i32*  out, room for max_docs+1: cu_seqlens[d] for d <= min(D,
//                    max_docs); with PADDED, (D, max_docs] is filled with nnz
//   max_docs   i64   see cu_seqlens (N without PADDED)
//   summary    i64*  out, 4 entries: nnz, D (documents), the longest
//                    document, the flat position of the first token that is
//                    negative or (STRICT) below the previous non-zero value of
//                    its row (-1: none)
//   workspace  i64*  in/out, 8 + 16 * gridDim.x words (word 0 the epoch,
//                    word 1 the finished-block count, 2..7 unused), zero
//                    before the first launch; every launch leaves it ready for
//                    the next one (no memset). One launch at a time per
//                    workspace.
//   mailbox    i64*  without PADDED: 8 words of host memory mapped for the
//                    device: the block that finishes last copies the summary
//                    into words 0..3, then (after a system fence) writes
//                    `sequence` into word 4, so the host can wait for that
//                    word instead of a copy and a stream sync. Unused with
//                    PADDED (pass 0).
//   sequence   i64   the value for mailbox word 4 (the host's call number)
// Launch: gridDim.x = ceil(N / TILE) with TILE = BLOCK * CHUNK / sizeof(T)
// tokens, blockDim = (BLOCK, 1, 1) (.reqntid), BLOCK a multiple of 32.
//
// How it works (records, phases, look-back, epochs): docs/kernels.md#mask_scan.
module {
  gpu.module @packjit {
    // @include "lib/chunk.mlir"
    // @include "lib/gpu.mlir"
    gpu.func @mask_scan(%mask: !llvm.ptr<1>, %N: i64, %S: i64,
                        %indices: !llvm.ptr<1>, %cu_seqlens: !llvm.ptr<1>,
                        %max_docs: i64, %summary: !llvm.ptr<1>,
                        %workspace: !llvm.ptr<1>,
                        %mailbox: !llvm.ptr<1>, %sequence: i64,
                        %block: i64 {packjit.constexpr = "BLOCK"},
                        %strict: i1 {packjit.constexpr = "STRICT"},
                        %padded: i1 {packjit.constexpr = "PADDED"},
                        %seq_const: i64 {packjit.constexpr = "SEQ"},
                        %chunk: i64 {packjit.constexpr = "CHUNK"},
                        %unsigned: i1 {packjit.constexpr = "T_UNSIGNED"})
        workgroup(%shared: memref<1024xi64, #gpu.address_space<workgroup>>)
        // Three blocks per SM (ptxas: 80 registers, 16-24 bytes of spills,
        // against 108-120 and two blocks): more mask bytes in flight.
        kernel attributes {packjit.block = "BLOCK", packjit.threads_per_sm = 768 : i64} {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c5 = arith.constant 5 : i64
      %c31 = arith.constant 31 : i64

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
      %is_warp0 = arith.cmpi eq, %warp, %c0 : i64
      %is_first_tile = arith.cmpi eq, %tile, %c0 : i64
      %has_seq = arith.cmpi ne, %seq_const, %c0 : i64
      %seq = arith.select %has_seq, %seq_const, %S : i64

      // sizeof(T), folded by LLVM.
      %null = llvm.mlir.zero : !llvm.ptr<1>
      %one_past = llvm.getelementptr %null[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, !packjit.T
      %tbytes = llvm.ptrtoint %one_past : !llvm.ptr<1> to i64
      %per_thread = arith.divui %chunk, %tbytes : i64
      %tile_tokens = arith.muli %block, %per_thread : i64
      %tile_base = arith.muli %tile, %tile_tokens : i64
      %my_base = arith.muli %t, %per_thread : i64
      %p0 = arith.addi %tile_base, %my_base : i64

      %epoch = llvm.load volatile %workspace : !llvm.ptr<1> -> i64
      %epoch1 = arith.addi %epoch, %c1 : i64
      %tag = arith.shli %epoch1, %c2 : i64
      %status = func.call @tile_status(%workspace, %tile)
          : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>

      // The thread's CHUNK bytes; a chunk that crosses N is read token by token.
      %full, %w0, %w1, %w2, %w3, %w4, %w5, %w6, %w7 = func.call @load_chunk(%mask, %p0, %per_thread, %N, %tbytes, %chunk)
          : (!llvm.ptr<1>, i64, i64, i64, i64, i64) -> (i1, i64, i64, i64, i64, i64, i64, i64, i64)

      // Phase 1: the thread's record.
      %a:7 = func.call @thread_record(%mask, %full, %w0, %w1, %w2, %w3, %w4, %w5, %w6, %w7, %p0, %per_thread,
                                      %N, %tbytes, %unsigned, %seq)
          : (!llvm.ptr<1>, i1, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i1, i64)
          -> (i64, i64, i64, i64, i64, i64, i64)

      // Inclusive scan of the records within each warp (shuffles up).
      %inc:7 = func.call @warp_scan(%a#0, %a#1, %a#2, %a#3, %a#4, %a#5, %a#6, %lane, %c5, %seq)
          : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
      %is_lane31 = arith.cmpi eq, %lane, %c31 : i64
      scf.if %is_lane31 {
        %at = func.call @warp_total_slot(%warp) : (i64) -> i64
        func.call @store_record(%shared, %at, %inc#0, %inc#1, %inc#2, %inc#3, %inc#4, %inc#5, %inc#6)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64, i64, i64, i64, i64, i64, i64) -> ()
      }
      gpu.barrier

      // Warp 0: the warps' prefixes within the tile, then the tile's.
      scf.if %is_warp0 {
        func.call @scan_tile(%shared, %workspace, %summary, %status, %tag, %tile, %is_first_tile, %tiles,
                             %lane, %warps, %seq)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, !llvm.ptr<1>, !llvm.ptr<1>, !llvm.ptr<1>, i64, i64, i1,
               i64, i64, i64, i64) -> ()
      }
      gpu.barrier

      // The thread's exact prefix: tile prefix, warp prefix, lanes before it.
      %cr:7 = func.call @thread_prefix(%shared, %warp, %is_lane0, %inc#0, %inc#1, %inc#2, %inc#3,
                                       %inc#4, %inc#5, %inc#6, %seq)
          : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i1, i64, i64, i64, i64, i64, i64, i64, i64)
          -> (i64, i64, i64, i64, i64, i64, i64)

      // Phase 2: outputs, from the exact prefix of each token.
      %fin:2 = func.call @write_outputs(%mask, %full, %w0, %w1, %w2, %w3, %w4, %w5, %w6, %w7, %p0,
                                        %per_thread, %N, %tbytes, %unsigned, %indices, %cu_seqlens,
                                        %max_docs, %strict, %padded, %cr#0, %cr#1, %cr#2, %cr#3,
                                        %cr#4, %cr#5, %cr#6, %seq)
          : (!llvm.ptr<1>, i1, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i1,
             !llvm.ptr<1>, !llvm.ptr<1>, i64, i1, i1, i64, i64, i64, i64, i64, i64, i64, i64)
          -> (i64, i64)

      // Block max of the lengths and min of the violations.
      func.call @store_warp_max_min(%shared, %warp, %is_lane0, %fin#0, %fin#1)
          : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i1, i64, i64) -> ()
      gpu.barrier
      scf.if %is_thread0 {
        func.call @finish_block(%shared, %workspace, %summary, %cu_seqlens, %mailbox, %sequence,
                                %max_docs, %padded, %tile, %tiles, %warps, %epoch1)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, !llvm.ptr<1>, !llvm.ptr<1>, !llvm.ptr<1>, !llvm.ptr<1>, i64, i64, i1, i64,
               i64, i64, i64) -> ()
      }

      // PADDED: the last tile's block fills cu_seqlens after D with nnz.
      %last_tile_all = arith.subi %tiles, %c1 : i64
      %is_last_block = arith.cmpi eq, %tile, %last_tile_all : i64
      %fill_tail = arith.andi %is_last_block, %padded : i1
      scf.if %fill_tail {
        func.call @fill_cu_tail(%shared, %cu_seqlens, %max_docs, %t, %block)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, !llvm.ptr<1>, i64, i64, i64) -> ()
      }
      gpu.return
    }

    // Phase 1: the record of the thread's tokens.
    func.func private @thread_record(%mask: !llvm.ptr<1>, %full: i1, %w0: i64, %w1: i64,
                                     %w2: i64, %w3: i64, %w4: i64, %w5: i64, %w6: i64,
                                     %w7: i64, %p0: i64, %per_thread: i64, %N: i64,
                                     %tbytes: i64, %unsigned: i1, %seq: i64)
        -> (i64, i64, i64, i64, i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %id:7 = func.call @identity() : () -> (i64, i64, i64, i64, i64, i64, i64)
      %a:7 = scf.for %j = %c0 to %per_thread step %c1
          iter_args(%r0 = %id#0, %r1 = %id#1, %r2 = %id#2, %r3 = %id#3,
                    %r4 = %id#4, %r5 = %id#5, %r6 = %id#6)
          -> (i64, i64, i64, i64, i64, i64, i64) : i64 {
        %p = arith.addi %p0, %j : i64
        %v = func.call @token(%mask, %full, %w0, %w1, %w2, %w3, %w4, %w5, %w6, %w7, %j, %p, %N,
                              %tbytes, %unsigned)
            : (!llvm.ptr<1>, i1, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i1) -> i64
        %nz = arith.cmpi ne, %v, %c0 : i64
        %n:7 = scf.if %nz -> (i64, i64, i64, i64, i64, i64, i64) {
          %u:7 = func.call @append_token(%r0, %r1, %r2, %r3, %r4, %r5, %r6, %p, %v, %seq)
              : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
          scf.yield %u#0, %u#1, %u#2, %u#3, %u#4, %u#5, %u#6 : i64, i64, i64, i64, i64, i64, i64
        } else {
          scf.yield %r0, %r1, %r2, %r3, %r4, %r5, %r6 : i64, i64, i64, i64, i64, i64, i64
        }
        scf.yield %n#0, %n#1, %n#2, %n#3, %n#4, %n#5, %n#6 : i64, i64, i64, i64, i64, i64, i64
      }
      return %a#0, %a#1, %a#2, %a#3, %a#4, %a#5, %a#6 : i64, i64, i64, i64, i64, i64, i64
    }

    // Inclusive scan of the lanes' records over `steps` shuffles up: lane l
    // ends with combine(lanes max(0, l + 1 - 2^steps)..l).
    func.func private @warp_scan(%a0: i64, %a1: i64, %a2: i64, %a3: i64, %a4: i64,
                                 %a5: i64, %a6: i64, %lane: i64, %steps: i64, %seq: i64)
        -> (i64, i64, i64, i64, i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %inc:7 = scf.for %step = %c0 to %steps step %c1
          iter_args(%r0 = %a0, %r1 = %a1, %r2 = %a2, %r3 = %a3,
                    %r4 = %a4, %r5 = %a5, %r6 = %a6)
          -> (i64, i64, i64, i64, i64, i64, i64) : i64 {
        %offset = arith.shli %c1, %step : i64
        %o:7 = func.call @shfl_record(%r0, %r1, %r2, %r3, %r4, %r5, %r6, %offset, %c0)
            : (i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
        %u:7 = func.call @combine(%o#0, %o#1, %o#2, %o#3, %o#4, %o#5, %o#6,
                                  %r0, %r1, %r2, %r3, %r4, %r5, %r6, %seq)
            : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
            -> (i64, i64, i64, i64, i64, i64, i64)
        %has_left = arith.cmpi sge, %lane, %offset : i64
        %s:7 = func.call @select_record(%has_left, %u#0, %u#1, %u#2, %u#3, %u#4, %u#5, %u#6,
            %r0, %r1, %r2, %r3, %r4, %r5, %r6)
            : (i1, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
            -> (i64, i64, i64, i64, i64, i64, i64)
        scf.yield %s#0, %s#1, %s#2, %s#3, %s#4, %s#5, %s#6 : i64, i64, i64, i64, i64, i64, i64
      }
      return %inc#0, %inc#1, %inc#2, %inc#3, %inc#4, %inc#5, %inc#6 : i64, i64, i64, i64, i64, i64, i64
    }

    // Warp 0, once the warp totals are in shared memory: each warp's
    // exclusive prefix within the tile, the tile's exclusive prefix (by
    // decoupled look-back) and inclusive prefix, published for the later
    // tiles and stored for this block's threads.
    func.func private @scan_tile(%shared: memref<1024xi64, #gpu.address_space<workgroup>>,
                                 %workspace: !llvm.ptr<1>, %summary: !llvm.ptr<1>,
                                 %status: !llvm.ptr<1>, %tag: i64, %tile: i64,
                                 %is_first_tile: i1, %tiles: i64, %lane: i64, %warps: i64,
                                 %seq: i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c3 = arith.constant 3 : i64
      %cm1 = arith.constant -1 : i64
      %is_lane0 = arith.cmpi eq, %lane, %c0 : i64
      %g:7 = func.call @scan_warp_totals(%shared, %lane, %warps, %seq)
          : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
      %pre:7 = scf.if %is_first_tile -> (i64, i64, i64, i64, i64, i64, i64) {
        %z:7 = func.call @identity() : () -> (i64, i64, i64, i64, i64, i64, i64)
        scf.yield %z#0, %z#1, %z#2, %z#3, %z#4, %z#5, %z#6 : i64, i64, i64, i64, i64, i64, i64
      } else {
        scf.if %is_lane0 {
          func.call @publish(%status, %c1, %tag, %g#0, %g#1, %g#2, %g#3, %g#4, %g#5, %g#6)
              : (!llvm.ptr<1>, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> ()
        }
        %found:7 = func.call @look_back(%workspace, %tile, %lane, %tag, %seq)
            : (!llvm.ptr<1>, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
        scf.yield %found#0, %found#1, %found#2, %found#3, %found#4, %found#5, %found#6
            : i64, i64, i64, i64, i64, i64, i64
      }
      %total:7 = func.call @combine(%pre#0, %pre#1, %pre#2, %pre#3, %pre#4, %pre#5, %pre#6,
                                    %g#0, %g#1, %g#2, %g#3, %g#4, %g#5, %g#6, %seq)
          : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
          -> (i64, i64, i64, i64, i64, i64, i64)
      scf.if %is_lane0 {
        // Tile 0 starts the max and the violation before its prefix is
        // published: every other tile's atomics follow that publication.
        scf.if %is_first_tile {
          func.call @store_global(%summary, %c2, %c0) : (!llvm.ptr<1>, i64, i64) -> ()
          func.call @store_global(%summary, %c3, %cm1) : (!llvm.ptr<1>, i64, i64) -> ()
        }
        %several = arith.cmpi sgt, %tiles, %c1 : i64
        scf.if %several {
          func.call @publish(%status, %c2, %tag, %total#0, %total#1, %total#2, %total#3,
                             %total#4, %total#5, %total#6)
              : (!llvm.ptr<1>, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> ()
        }
        %tile_prefix_at = func.call @tile_prefix_slot() : () -> i64
        %tile_inclusive_at = func.call @tile_inclusive_slot() : () -> i64
        func.call @store_record(%shared, %tile_prefix_at, %pre#0, %pre#1, %pre#2, %pre#3, %pre#4, %pre#5, %pre#6)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64, i64, i64, i64, i64, i64, i64) -> ()
        func.call @store_record(%shared, %tile_inclusive_at, %total#0, %total#1, %total#2, %total#3,
                                %total#4, %total#5, %total#6)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64, i64, i64, i64, i64, i64, i64) -> ()
      }
      return
    }

    // Lane w < warps of warp 0 scans the warp totals and stores warp w's
    // exclusive prefix; returns the tile aggregate (the last warp's
    // inclusive value) in every lane.
    func.func private @scan_warp_totals(%shared: memref<1024xi64, #gpu.address_space<workgroup>>,
                                        %lane: i64, %warps: i64, %seq: i64)
        -> (i64, i64, i64, i64, i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c64 = arith.constant 64 : i64
      %is_lane0 = arith.cmpi eq, %lane, %c0 : i64
      %z:7 = func.call @identity() : () -> (i64, i64, i64, i64, i64, i64, i64)
      %holds_warp = arith.cmpi slt, %lane, %warps : i64
      %wt:7 = scf.if %holds_warp -> (i64, i64, i64, i64, i64, i64, i64) {
        %at = func.call @warp_total_slot(%lane) : (i64) -> i64
        %y:7 = func.call @load_record(%shared, %at)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> (i64, i64, i64, i64, i64, i64, i64)
        scf.yield %y#0, %y#1, %y#2, %y#3, %y#4, %y#5, %y#6 : i64, i64, i64, i64, i64, i64, i64
      } else {
        scf.yield %z#0, %z#1, %z#2, %z#3, %z#4, %z#5, %z#6 : i64, i64, i64, i64, i64, i64, i64
      }
      // ceil(log2(warps)) steps (0 for one warp).
      %warps_m1 = arith.subi %warps, %c1 : i64
      %lz = "llvm.intr.ctlz"(%warps_m1) <{is_zero_poison = false}> : (i64) -> i64
      %steps = arith.subi %c64, %lz : i64
      %wi:7 = func.call @warp_scan(%wt#0, %wt#1, %wt#2, %wt#3, %wt#4, %wt#5, %wt#6, %lane, %steps, %seq)
          : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
      // Exclusive: lane w gets lane w-1's inclusive value (lane 0 nothing).
      %left:7 = func.call @shfl_record(%wi#0, %wi#1, %wi#2, %wi#3, %wi#4, %wi#5, %wi#6, %c1, %c0)
          : (i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
      scf.if %holds_warp {
        %ex:7 = func.call @select_record(%is_lane0, %z#0, %z#1, %z#2, %z#3, %z#4, %z#5, %z#6,
            %left#0, %left#1, %left#2, %left#3, %left#4, %left#5, %left#6)
            : (i1, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
            -> (i64, i64, i64, i64, i64, i64, i64)
        %prefix_at = func.call @warp_prefix_slot(%lane) : (i64) -> i64
        func.call @store_record(%shared, %prefix_at, %ex#0, %ex#1, %ex#2, %ex#3, %ex#4, %ex#5, %ex#6)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64, i64, i64, i64, i64, i64, i64) -> ()
      }
      // The tile aggregate: the last warp's inclusive value, in every lane.
      %g:7 = func.call @shfl_record(%wi#0, %wi#1, %wi#2, %wi#3, %wi#4, %wi#5, %wi#6, %warps_m1, %c2)
          : (i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
      return %g#0, %g#1, %g#2, %g#3, %g#4, %g#5, %g#6 : i64, i64, i64, i64, i64, i64, i64
    }

    // The exclusive prefix of tile `tile` (> 0), by decoupled look-back: the
    // warp reads the status of 32 tiles (lane l: tile top - l), combines
    // them down to the nearest inclusive prefix, and moves 32 tiles back
    // while none has one.
    func.func private @look_back(%workspace: !llvm.ptr<1>, %tile: i64, %lane: i64, %tag: i64,
                                 %seq: i64) -> (i64, i64, i64, i64, i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c3 = arith.constant 3 : i64
      %c8 = arith.constant 8 : i64
      %c32 = arith.constant 32 : i64
      %c0_32 = arith.constant 0 : i32
      %z:7 = func.call @identity() : () -> (i64, i64, i64, i64, i64, i64, i64)
      %top0 = arith.subi %tile, %c1 : i64
      %found:8 = scf.while (%top = %top0, %q0 = %z#0, %q1 = %z#1, %q2 = %z#2,
                            %q3 = %z#3, %q4 = %z#4, %q5 = %z#5, %q6 = %z#6)
          : (i64, i64, i64, i64, i64, i64, i64, i64)
          -> (i64, i64, i64, i64, i64, i64, i64, i64) {
        %idx = arith.subi %top, %lane : i64
        %flag = func.call @wait_status(%workspace, %idx, %tag)
            : (!llvm.ptr<1>, i64, i64) -> i64
        %kind = arith.andi %flag, %c3 : i64
        %inclusive = arith.cmpi eq, %kind, %c2 : i64
        %before_first = arith.cmpi slt, %idx, %c0 : i64
        %x:7 = scf.if %before_first -> (i64, i64, i64, i64, i64, i64, i64) {
          scf.yield %z#0, %z#1, %z#2, %z#3, %z#4, %z#5, %z#6 : i64, i64, i64, i64, i64, i64, i64
        } else {
          %rec = func.call @tile_status(%workspace, %idx) : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>
          %field = arith.select %inclusive, %c8, %c1 : i64
          %y:7 = func.call @read_status(%rec, %field)
              : (!llvm.ptr<1>, i64) -> (i64, i64, i64, i64, i64, i64, i64)
          scf.yield %y#0, %y#1, %y#2, %y#3, %y#4, %y#5, %y#6 : i64, i64, i64, i64, i64, i64, i64
        }
        %all = arith.constant -1 : i32
        %ballot = nvvm.vote.sync ballot %all, %inclusive -> i32
        %stop32 = "llvm.intr.cttz"(%ballot) <{is_zero_poison = false}> : (i32) -> i32
        %stop = arith.extui %stop32 : i32 to i64
        // Lanes past the nearest inclusive prefix contribute nothing.
        %beyond = arith.cmpi sgt, %lane, %stop : i64
        %m:7 = func.call @select_record(%beyond, %z#0, %z#1, %z#2, %z#3, %z#4, %z#5, %z#6,
            %x#0, %x#1, %x#2, %x#3, %x#4, %x#5, %x#6)
            : (i1, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
            -> (i64, i64, i64, i64, i64, i64, i64)
        // Reduce the window; higher lanes hold earlier tiles (the left).
        %win:7 = func.call @reduce_window(%m#0, %m#1, %m#2, %m#3, %m#4, %m#5, %m#6, %lane, %seq)
            : (i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
        %b:7 = func.call @shfl_record(%win#0, %win#1, %win#2, %win#3, %win#4, %win#5, %win#6, %c0, %c2)
            : (i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
        %acc:7 = func.call @combine(%b#0, %b#1, %b#2, %b#3, %b#4, %b#5, %b#6,
                                    %q0, %q1, %q2, %q3, %q4, %q5, %q6, %seq)
            : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
            -> (i64, i64, i64, i64, i64, i64, i64)
        %no_inclusive = arith.cmpi eq, %ballot, %c0_32 : i32
        %next_top = arith.subi %top, %c32 : i64
        scf.condition(%no_inclusive) %next_top, %acc#0, %acc#1, %acc#2, %acc#3, %acc#4, %acc#5, %acc#6
            : i64, i64, i64, i64, i64, i64, i64, i64
      } do {
      ^bb0(%top: i64, %q0: i64, %q1: i64, %q2: i64, %q3: i64, %q4: i64, %q5: i64, %q6: i64):
        scf.yield %top, %q0, %q1, %q2, %q3, %q4, %q5, %q6 : i64, i64, i64, i64, i64, i64, i64, i64
      }
      return %found#1, %found#2, %found#3, %found#4, %found#5, %found#6, %found#7
          : i64, i64, i64, i64, i64, i64, i64
    }

    // The look-back window's records combined into lane 0; higher lanes hold
    // earlier tiles (the left operand).
    func.func private @reduce_window(%m0: i64, %m1: i64, %m2: i64, %m3: i64, %m4: i64,
                                     %m5: i64, %m6: i64, %lane: i64, %seq: i64)
        -> (i64, i64, i64, i64, i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c5 = arith.constant 5 : i64
      %c32 = arith.constant 32 : i64
      %win:7 = scf.for %step = %c0 to %c5 step %c1
          iter_args(%r0 = %m0, %r1 = %m1, %r2 = %m2, %r3 = %m3,
                    %r4 = %m4, %r5 = %m5, %r6 = %m6)
          -> (i64, i64, i64, i64, i64, i64, i64) : i64 {
        %offset = arith.shli %c1, %step : i64
        %o:7 = func.call @shfl_record(%r0, %r1, %r2, %r3, %r4, %r5, %r6, %offset, %c1)
            : (i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
        %u:7 = func.call @combine(%o#0, %o#1, %o#2, %o#3, %o#4, %o#5, %o#6,
                                  %r0, %r1, %r2, %r3, %r4, %r5, %r6, %seq)
            : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
            -> (i64, i64, i64, i64, i64, i64, i64)
        %source = arith.addi %lane, %offset : i64
        %in_warp = arith.cmpi slt, %source, %c32 : i64
        %s:7 = func.call @select_record(%in_warp, %u#0, %u#1, %u#2, %u#3, %u#4, %u#5, %u#6,
            %r0, %r1, %r2, %r3, %r4, %r5, %r6)
            : (i1, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
            -> (i64, i64, i64, i64, i64, i64, i64)
        scf.yield %s#0, %s#1, %s#2, %s#3, %s#4, %s#5, %s#6 : i64, i64, i64, i64, i64, i64, i64
      }
      return %win#0, %win#1, %win#2, %win#3, %win#4, %win#5, %win#6 : i64, i64, i64, i64, i64, i64, i64
    }

    // The exact prefix of the thread's first token: the tile's prefix, the
    // warp's prefix within the tile, then the lanes before it (`inc`: the
    // warp's inclusive scan).
    func.func private @thread_prefix(%shared: memref<1024xi64, #gpu.address_space<workgroup>>, %warp: i64, %is_lane0: i1,
                                     %inc0: i64, %inc1: i64, %inc2: i64, %inc3: i64, %inc4: i64,
                                     %inc5: i64, %inc6: i64, %seq: i64)
        -> (i64, i64, i64, i64, i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %tp_at = func.call @tile_prefix_slot() : () -> i64
      %tp:7 = func.call @load_record(%shared, %tp_at)
          : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> (i64, i64, i64, i64, i64, i64, i64)
      %wp_at = func.call @warp_prefix_slot(%warp) : (i64) -> i64
      %wp:7 = func.call @load_record(%shared, %wp_at)
          : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> (i64, i64, i64, i64, i64, i64, i64)
      %lp:7 = func.call @shfl_record(%inc0, %inc1, %inc2, %inc3, %inc4, %inc5, %inc6, %c1, %c0)
          : (i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
      %z2:7 = func.call @identity() : () -> (i64, i64, i64, i64, i64, i64, i64)
      %e:7 = func.call @select_record(%is_lane0, %z2#0, %z2#1, %z2#2, %z2#3, %z2#4, %z2#5, %z2#6,
          %lp#0, %lp#1, %lp#2, %lp#3, %lp#4, %lp#5, %lp#6)
          : (i1, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
          -> (i64, i64, i64, i64, i64, i64, i64)
      %tw:7 = func.call @combine(%tp#0, %tp#1, %tp#2, %tp#3, %tp#4, %tp#5, %tp#6,
                                 %wp#0, %wp#1, %wp#2, %wp#3, %wp#4, %wp#5, %wp#6, %seq)
          : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
          -> (i64, i64, i64, i64, i64, i64, i64)
      %cr:7 = func.call @combine(%tw#0, %tw#1, %tw#2, %tw#3, %tw#4, %tw#5, %tw#6,
                                 %e#0, %e#1, %e#2, %e#3, %e#4, %e#5, %e#6, %seq)
          : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
          -> (i64, i64, i64, i64, i64, i64, i64)
      return %cr#0, %cr#1, %cr#2, %cr#3, %cr#4, %cr#5, %cr#6 : i64, i64, i64, i64, i64, i64, i64
    }

    // Phase 2: the outputs of the thread's tokens from the exact prefix
    // `cr`; returns the longest document that ended here and the first
    // violation's position (the largest i64 when none).
    func.func private @write_outputs(%mask: !llvm.ptr<1>, %full: i1, %w0: i64, %w1: i64,
                                     %w2: i64, %w3: i64, %w4: i64, %w5: i64, %w6: i64,
                                     %w7: i64, %p0: i64, %per_thread: i64, %N: i64,
                                     %tbytes: i64, %unsigned: i1, %indices: !llvm.ptr<1>,
                                     %cu_seqlens: !llvm.ptr<1>, %max_docs: i64, %strict: i1,
                                     %padded: i1, %cr0: i64, %cr1: i64, %cr2: i64, %cr3: i64,
                                     %cr4: i64, %cr5: i64, %cr6: i64, %seq: i64) -> (i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %cm1 = arith.constant -1 : i64
      %highest = arith.constant 9223372036854775807 : i64
      %nm1 = arith.subi %N, %c1 : i64
      %fin:9 = scf.for %j = %c0 to %per_thread step %c1
          iter_args(%r0 = %cr0, %r1 = %cr1, %r2 = %cr2, %r3 = %cr3,
                    %r4 = %cr4, %r5 = %cr5, %r6 = %cr6,
                    %longest = %c0, %violation = %highest)
          -> (i64, i64, i64, i64, i64, i64, i64, i64, i64) : i64 {
        %p = arith.addi %p0, %j : i64
        %v = func.call @token(%mask, %full, %w0, %w1, %w2, %w3, %w4, %w5, %w6, %w7, %j, %p, %N,
                              %tbytes, %unsigned)
            : (!llvm.ptr<1>, i1, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i1) -> i64
        %nz = arith.cmpi ne, %v, %c0 : i64
        %n:9 = scf.if %nz -> (i64, i64, i64, i64, i64, i64, i64, i64, i64) {
          %u:9 = func.call @write_token(%indices, %cu_seqlens, %max_docs, %strict, %p, %v,
                                        %r0, %r1, %r2, %r3, %r4, %r5, %r6, %longest, %violation, %seq)
              : (!llvm.ptr<1>, !llvm.ptr<1>, i64, i1, i64, i64, i64, i64, i64, i64, i64, i64, i64,
                 i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64, i64, i64)
          scf.yield %u#0, %u#1, %u#2, %u#3, %u#4, %u#5, %u#6, %u#7, %u#8
              : i64, i64, i64, i64, i64, i64, i64, i64, i64
        } else {
          // PADDED: the z-th padding token fills indices[N - 1 - z].
          %in_range = arith.cmpi slt, %p, %N : i64
          %fill = arith.andi %padded, %in_range : i1
          scf.if %fill {
            %z = arith.subi %p, %r0 : i64
            %back = arith.subi %nm1, %z : i64
            %tail_ptr = llvm.getelementptr %indices[%back] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
            llvm.store %cm1, %tail_ptr : i64, !llvm.ptr<1>
          }
          scf.yield %r0, %r1, %r2, %r3, %r4, %r5, %r6, %longest, %violation
              : i64, i64, i64, i64, i64, i64, i64, i64, i64
        }
        scf.yield %n#0, %n#1, %n#2, %n#3, %n#4, %n#5, %n#6, %n#7, %n#8
            : i64, i64, i64, i64, i64, i64, i64, i64, i64
      }
      return %fin#7, %fin#8 : i64, i64
    }

    // Non-zero token v at flat position p after the record r: its slot in
    // indices; when it starts a document, cu_seqlens of that document and
    // the length of the one it ends (into `longest`); a violation's
    // position (into `violation`). Returns r with the token, longest and
    // violation.
    func.func private @write_token(%indices: !llvm.ptr<1>, %cu_seqlens: !llvm.ptr<1>,
                                   %max_docs: i64, %strict: i1, %p: i64, %v: i64,
                                   %r0: i64, %r1: i64, %r2: i64, %r3: i64, %r4: i64, %r5: i64,
                                   %r6: i64, %longest: i64, %violation: i64, %seq: i64)
        -> (i64, i64, i64, i64, i64, i64, i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %true = arith.constant true
      %highest = arith.constant 9223372036854775807 : i64
      %any_before = arith.cmpi sgt, %r0, %c0 : i64
      %prev_row = func.call @row_of(%r4, %seq) : (i64, i64) -> i64
      %row = func.call @row_of(%p, %seq) : (i64, i64) -> i64
      %same_row = arith.cmpi eq, %prev_row, %row : i64
      %has_prev = arith.andi %any_before, %same_row : i1
      %same_value = arith.cmpi eq, %r5, %v : i64
      %joins = arith.andi %has_prev, %same_value : i1
      %slot_ptr = llvm.getelementptr %indices[%r0] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
      llvm.store %p, %slot_ptr : i64, !llvm.ptr<1>
      %starts = arith.xori %joins, %true : i1
      %fits = arith.cmpi sle, %r1, %max_docs : i64
      %write_cu = arith.andi %starts, %fits : i1
      scf.if %write_cu {
        %cu_ptr = llvm.getelementptr %cu_seqlens[%r1] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
        %slot32 = arith.trunci %r0 : i64 to i32
        llvm.store %slot32, %cu_ptr : i32, !llvm.ptr<1>
      }
      %had_start = arith.cmpi sge, %r6, %c0 : i64
      %ends_one = arith.andi %starts, %had_start : i1
      %length = arith.subi %r0, %r6 : i64
      %ended = arith.select %ends_one, %length, %c0 : i64
      %longest2 = arith.maxsi %longest, %ended : i64
      %negative = arith.cmpi slt, %v, %c0 : i64
      %below = arith.cmpi slt, %v, %r5 : i64
      %below_prev = arith.andi %below, %has_prev : i1
      %decreasing = arith.andi %below_prev, %strict : i1
      %violates = arith.ori %negative, %decreasing : i1
      %mine = arith.select %violates, %p, %highest : i64
      %violation2 = arith.minsi %violation, %mine : i64
      %u:7 = func.call @append_token(%r0, %r1, %r2, %r3, %r4, %r5, %r6, %p, %v, %seq)
          : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> (i64, i64, i64, i64, i64, i64, i64)
      return %u#0, %u#1, %u#2, %u#3, %u#4, %u#5, %u#6, %longest2, %violation2
          : i64, i64, i64, i64, i64, i64, i64, i64, i64
    }

    // The warp's longest document and first violation, into its slots.
    func.func private @store_warp_max_min(%shared: memref<1024xi64, #gpu.address_space<workgroup>>, %warp: i64, %is_lane0: i1,
                                          %longest: i64, %violation: i64) {
      %warp_longest, %warp_violation = func.call @warp_max_min(%longest, %violation)
          : (i64, i64) -> (i64, i64)
      scf.if %is_lane0 {
        %at_max = func.call @warp_longest_slot(%warp) : (i64) -> i64
        %at_viol = func.call @warp_violation_slot(%warp) : (i64) -> i64
        func.call @store_shared(%shared, %at_max, %warp_longest)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
        func.call @store_shared(%shared, %at_viol, %warp_violation)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      }
      return
    }

    // Thread 0, once every warp stored its max and min: the block's into
    // the summary (atomics); the last tile's block also writes the totals,
    // ends the last document and moves the epoch on.
    func.func private @finish_block(%shared: memref<1024xi64, #gpu.address_space<workgroup>>, %workspace: !llvm.ptr<1>,
                                    %summary: !llvm.ptr<1>, %cu_seqlens: !llvm.ptr<1>,
                                    %mailbox: !llvm.ptr<1>, %sequence: i64, %max_docs: i64,
                                    %padded: i1, %tile: i64, %tiles: i64, %warps: i64,
                                    %epoch1: i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %true = arith.constant true
      %highest = arith.constant 9223372036854775807 : i64
      %bl:2 = func.call @block_max_min(%shared, %warps)
          : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> (i64, i64)
      // The last tile holds the totals and ends the last document.
      %last_tile = arith.subi %tiles, %c1 : i64
      %is_last_tile = arith.cmpi eq, %tile, %last_tile : i64
      %block_longest = scf.if %is_last_tile -> (i64) {
        %tt_at = func.call @tile_inclusive_slot() : () -> i64
        %tt:7 = func.call @load_record(%shared, %tt_at)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> (i64, i64, i64, i64, i64, i64, i64)
        func.call @store_global(%summary, %c0, %tt#0) : (!llvm.ptr<1>, i64, i64) -> ()
        func.call @store_global(%summary, %c1, %tt#1) : (!llvm.ptr<1>, i64, i64) -> ()
        %fits = arith.cmpi sle, %tt#1, %max_docs : i64
        scf.if %fits {
          %cu_ptr = llvm.getelementptr %cu_seqlens[%tt#1] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
          %nnz32 = arith.trunci %tt#0 : i64 to i32
          llvm.store %nnz32, %cu_ptr : i32, !llvm.ptr<1>
        }
        // Every tile has published (the look-back chains prove it), so
        // every block has read the epoch: the next launch may use the next.
        llvm.store volatile %epoch1, %workspace : i64, !llvm.ptr<1>
        %had_start = arith.cmpi sge, %tt#6, %c0 : i64
        %length = arith.subi %tt#0, %tt#6 : i64
        %ended = arith.select %had_start, %length, %c0 : i64
        %m = arith.maxsi %bl#0, %ended : i64
        scf.yield %m : i64
      } else {
        scf.yield %bl#0 : i64
      }
      %max_ptr = llvm.getelementptr %summary[2] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %old_max = llvm.atomicrmw max %max_ptr, %block_longest monotonic : !llvm.ptr<1>, i64
      // -1 is the largest unsigned value: "none" loses every unsigned min.
      %found_violation = arith.cmpi ne, %bl#1, %highest : i64
      scf.if %found_violation {
        %viol_ptr = llvm.getelementptr %summary[3] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
        %old_viol = llvm.atomicrmw umin %viol_ptr, %bl#1 monotonic : !llvm.ptr<1>, i64
      }
      %to_host = arith.xori %padded, %true : i1
      scf.if %to_host {
        func.call @post_when_last(%workspace, %summary, %mailbox, %sequence, %last_tile)
            : (!llvm.ptr<1>, !llvm.ptr<1>, !llvm.ptr<1>, i64, i64) -> ()
      }
      return
    }

    // The max of the warps' longest documents and the min of their violations.
    func.func private @block_max_min(%shared: memref<1024xi64, #gpu.address_space<workgroup>>, %warps: i64) -> (i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %highest = arith.constant 9223372036854775807 : i64
      %bl:2 = scf.for %w = %c0 to %warps step %c1 iter_args(%mx = %c0, %mn = %highest)
          -> (i64, i64) : i64 {
        %at_max = func.call @warp_longest_slot(%w) : (i64) -> i64
        %at_viol = func.call @warp_violation_slot(%w) : (i64) -> i64
        %x = func.call @load_shared(%shared, %at_max)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> i64
        %y = func.call @load_shared(%shared, %at_viol)
            : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> i64
        %mx2 = arith.maxsi %mx, %x : i64
        %mn2 = arith.minsi %mn, %y : i64
        scf.yield %mx2, %mn2 : i64, i64
      }
      return %bl#0, %bl#1 : i64, i64
    }

    // Without PADDED, the block that finishes last (after every block's
    // atomics, counted in workspace word 1) posts the summary to the host's
    // mailbox and resets the count for the next launch.
    func.func private @post_when_last(%workspace: !llvm.ptr<1>, %summary: !llvm.ptr<1>,
                                      %mailbox: !llvm.ptr<1>, %sequence: i64, %last_tile: i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      func.call @fence() : () -> ()
      %done_ptr = llvm.getelementptr %workspace[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %finished_before = llvm.atomicrmw add %done_ptr, %c1 monotonic : !llvm.ptr<1>, i64
      %finishes_last = arith.cmpi eq, %finished_before, %last_tile : i64
      scf.if %finishes_last {
        func.call @fence() : () -> ()
        func.call @post_summary(%summary, %mailbox, %sequence)
            : (!llvm.ptr<1>, !llvm.ptr<1>, i64) -> ()
        llvm.store %c0, %done_ptr : i64, !llvm.ptr<1>
      }
      return
    }

    // PADDED, the last tile's block: cu_seqlens after D up to max_docs is nnz.
    func.func private @fill_cu_tail(%shared: memref<1024xi64, #gpu.address_space<workgroup>>, %cu_seqlens: !llvm.ptr<1>, %max_docs: i64,
                                    %t: i64, %block: i64) {
      %c1 = arith.constant 1 : i64
      %tt_at = func.call @tile_inclusive_slot() : () -> i64
      %tt:7 = func.call @load_record(%shared, %tt_at)
          : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> (i64, i64, i64, i64, i64, i64, i64)
      %nnz32 = arith.trunci %tt#0 : i64 to i32
      %first = arith.addi %tt#1, %c1 : i64
      %from = arith.addi %first, %t : i64
      %to = arith.addi %max_docs, %c1 : i64
      scf.for %d = %from to %to step %block : i64 {
        %cu_ptr = llvm.getelementptr %cu_seqlens[%d] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
        llvm.store %nnz32, %cu_ptr : i32, !llvm.ptr<1>
      }
      return
    }

    // The empty record: no tokens, no starts, no first/last token (-1).
    func.func private @identity() -> (i64, i64, i64, i64, i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %cm1 = arith.constant -1 : i64
      return %c0, %c0, %cm1, %c0, %cm1, %c0, %cm1 : i64, i64, i64, i64, i64, i64, i64
    }

    // combine(L, R) for L's tokens directly before R's. Fields: nnz, starts,
    // first (pos, value), last (pos, value), last start (offset in nnz).
    func.func private @combine(%l_nnz: i64, %l_starts: i64, %l_fpos: i64, %l_fval: i64,
                               %l_lpos: i64, %l_lval: i64, %l_lstart: i64,
                               %r_nnz: i64, %r_starts: i64, %r_fpos: i64, %r_fval: i64,
                               %r_lpos: i64, %r_lval: i64, %r_lstart: i64, %seq: i64)
        -> (i64, i64, i64, i64, i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %true = arith.constant true
      %l_any = arith.cmpi sgt, %l_nnz, %c0 : i64
      %r_any = arith.cmpi sgt, %r_nnz, %c0 : i64
      %l_row = func.call @row_of(%l_lpos, %seq) : (i64, i64) -> i64
      %r_row = func.call @row_of(%r_fpos, %seq) : (i64, i64) -> i64
      %same_row = arith.cmpi eq, %l_row, %r_row : i64
      %same_value = arith.cmpi eq, %l_lval, %r_fval : i64
      %both = arith.andi %l_any, %r_any : i1
      %adjacent = arith.andi %same_row, %same_value : i1
      %joins = arith.andi %both, %adjacent : i1
      %joins64 = arith.extui %joins : i1 to i64
      %nnz = arith.addi %l_nnz, %r_nnz : i64
      %starts_sum = arith.addi %l_starts, %r_starts : i64
      %starts = arith.subi %starts_sum, %joins64 : i64
      %fpos = arith.select %l_any, %l_fpos, %r_fpos : i64
      %fval = arith.select %l_any, %l_fval, %r_fval : i64
      %lpos = arith.select %r_any, %r_lpos, %l_lpos : i64
      %lval = arith.select %r_any, %r_lval, %l_lval : i64
      // R's last start counts unless it is R's first token and joins L.
      %r_late_start = arith.cmpi sgt, %r_lstart, %c0 : i64
      %r_first_start = arith.cmpi eq, %r_lstart, %c0 : i64
      %not_joined = arith.xori %joins, %true : i1
      %r_first_counts = arith.andi %r_first_start, %not_joined : i1
      %r_has = arith.ori %r_late_start, %r_first_counts : i1
      %shifted = arith.addi %l_nnz, %r_lstart : i64
      %lstart = arith.select %r_has, %shifted, %l_lstart : i64
      return %nnz, %starts, %fpos, %fval, %lpos, %lval, %lstart
          : i64, i64, i64, i64, i64, i64, i64
    }

    // The record r followed by the non-zero token v at flat position p.
    func.func private @append_token(%r0: i64, %r1: i64, %r2: i64, %r3: i64, %r4: i64,
                                    %r5: i64, %r6: i64, %p: i64, %v: i64, %seq: i64)
        -> (i64, i64, i64, i64, i64, i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %u:7 = func.call @combine(%r0, %r1, %r2, %r3, %r4, %r5, %r6,
                                %c1, %c1, %p, %v, %p, %v, %c0, %seq)
          : (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)
          -> (i64, i64, i64, i64, i64, i64, i64)
      return %u#0, %u#1, %u#2, %u#3, %u#4, %u#5, %u#6 : i64, i64, i64, i64, i64, i64, i64
    }

    // `pick` ? A : B, for a whole record.
    func.func private @select_record(%pick: i1,
                                     %a0: i64, %a1: i64, %a2: i64, %a3: i64, %a4: i64, %a5: i64, %a6: i64,
                                     %b0: i64, %b1: i64, %b2: i64, %b3: i64, %b4: i64, %b5: i64, %b6: i64)
        -> (i64, i64, i64, i64, i64, i64, i64) {
      %r0 = arith.select %pick, %a0, %b0 : i64
      %r1 = arith.select %pick, %a1, %b1 : i64
      %r2 = arith.select %pick, %a2, %b2 : i64
      %r3 = arith.select %pick, %a3, %b3 : i64
      %r4 = arith.select %pick, %a4, %b4 : i64
      %r5 = arith.select %pick, %a5, %b5 : i64
      %r6 = arith.select %pick, %a6, %b6 : i64
      return %r0, %r1, %r2, %r3, %r4, %r5, %r6 : i64, i64, i64, i64, i64, i64, i64
    }

    func.func private @shfl_record(%r0: i64, %r1: i64, %r2: i64, %r3: i64, %r4: i64,
                                   %r5: i64, %r6: i64, %offset: i64, %mode: i64)
        -> (i64, i64, i64, i64, i64, i64, i64) {
      %s0 = func.call @shfl64(%r0, %offset, %mode) : (i64, i64, i64) -> i64
      %s1 = func.call @shfl64(%r1, %offset, %mode) : (i64, i64, i64) -> i64
      %s2 = func.call @shfl64(%r2, %offset, %mode) : (i64, i64, i64) -> i64
      %s3 = func.call @shfl64(%r3, %offset, %mode) : (i64, i64, i64) -> i64
      %s4 = func.call @shfl64(%r4, %offset, %mode) : (i64, i64, i64) -> i64
      %s5 = func.call @shfl64(%r5, %offset, %mode) : (i64, i64, i64) -> i64
      %s6 = func.call @shfl64(%r6, %offset, %mode) : (i64, i64, i64) -> i64
      return %s0, %s1, %s2, %s3, %s4, %s5, %s6 : i64, i64, i64, i64, i64, i64, i64
    }

    // The row of flat position p (p < 2^31: 32-bit division; garbage for
    // p = -1, which callers never use).
    func.func private @row_of(%p: i64, %seq: i64) -> i64 {
      %p32 = arith.trunci %p : i64 to i32
      %s32 = arith.trunci %seq : i64 to i32
      %row32 = arith.divui %p32, %s32 : i32
      %row = arith.extui %row32 : i32 to i64
      return %row : i64
    }

    // Lane 0 gets the warp's max of `longest` and min of `violation`.
    func.func private @warp_max_min(%longest: i64, %violation: i64) -> (i64, i64) {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c5 = arith.constant 5 : i64
      %r:2 = scf.for %step = %c0 to %c5 step %c1 iter_args(%mx = %longest, %mn = %violation)
          -> (i64, i64) : i64 {
        %offset = arith.shli %c1, %step : i64
        %x = func.call @shfl64(%mx, %offset, %c1) : (i64, i64, i64) -> i64
        %y = func.call @shfl64(%mn, %offset, %c1) : (i64, i64, i64) -> i64
        %mx2 = arith.maxsi %mx, %x : i64
        %mn2 = arith.minsi %mn, %y : i64
        scf.yield %mx2, %mn2 : i64, i64
      }
      return %r#0, %r#1 : i64, i64
    }

    // A tile's status: word 0 the flag ((epoch + 1) << 2 | kind: 1 aggregate,
    // 2 inclusive prefix), words 1..7 the aggregate, 8..14 the prefix.
    func.func private @tile_status(%workspace: !llvm.ptr<1>, %tile: i64) -> !llvm.ptr<1> {
      %c8 = arith.constant 8 : i64
      %c16 = arith.constant 16 : i64
      %scaled = arith.muli %tile, %c16 : i64
      %word = arith.addi %scaled, %c8 : i64
      %ptr = llvm.getelementptr %workspace[%word] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
      return %ptr : !llvm.ptr<1>
    }

    // Writes the record at words field..field+6 of `status`, then (after a
    // fence) the flag `tag | kind`; field = 1 for kind 1, 8 for kind 2.
    func.func private @publish(%status: !llvm.ptr<1>, %kind: i64, %tag: i64,
                               %r0: i64, %r1: i64, %r2: i64, %r3: i64, %r4: i64,
                               %r5: i64, %r6: i64) {
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %c8 = arith.constant 8 : i64
      %inclusive = arith.cmpi eq, %kind, %c2 : i64
      %field = arith.select %inclusive, %c8, %c1 : i64
      %base = llvm.getelementptr %status[%field] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
      %p1 = llvm.getelementptr %base[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %p2 = llvm.getelementptr %base[2] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %p3 = llvm.getelementptr %base[3] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %p4 = llvm.getelementptr %base[4] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %p5 = llvm.getelementptr %base[5] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %p6 = llvm.getelementptr %base[6] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      llvm.store volatile %r0, %base : i64, !llvm.ptr<1>
      llvm.store volatile %r1, %p1 : i64, !llvm.ptr<1>
      llvm.store volatile %r2, %p2 : i64, !llvm.ptr<1>
      llvm.store volatile %r3, %p3 : i64, !llvm.ptr<1>
      llvm.store volatile %r4, %p4 : i64, !llvm.ptr<1>
      llvm.store volatile %r5, %p5 : i64, !llvm.ptr<1>
      llvm.store volatile %r6, %p6 : i64, !llvm.ptr<1>
      func.call @fence() : () -> ()
      %flag = arith.ori %tag, %kind : i64
      llvm.store volatile %flag, %status : i64, !llvm.ptr<1>
      return
    }

    // Spins until tile `idx`'s flag carries this launch's tag (every lane of
    // the warp: each reads its own tile), then fences. idx < 0 reads as an
    // inclusive prefix.
    func.func private @wait_status(%workspace: !llvm.ptr<1>, %idx: i64, %tag: i64) -> i64 {
      %c0 = arith.constant 0 : i64
      %c2 = arith.constant 2 : i64
      %c3 = arith.constant 3 : i64
      %all = arith.constant -1 : i32
      %true = arith.constant true
      %before_first = arith.cmpi slt, %idx, %c0 : i64
      %inclusive_flag = arith.ori %tag, %c2 : i64
      %flag = scf.while (%unused = %c0) : (i64) -> i64 {
        %f = scf.if %before_first -> (i64) {
          scf.yield %inclusive_flag : i64
        } else {
          %status = func.call @tile_status(%workspace, %idx) : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>
          %x = llvm.load volatile %status : !llvm.ptr<1> -> i64
          scf.yield %x : i64
        }
        %kind = arith.andi %f, %c3 : i64
        %epoch_bits = arith.subi %f, %kind : i64
        %current = arith.cmpi eq, %epoch_bits, %tag : i64
        %has_kind = arith.cmpi ne, %kind, %c0 : i64
        %ready = arith.andi %current, %has_kind : i1
        %all_ready = nvvm.vote.sync all %all, %ready -> i1
        %again = arith.xori %all_ready, %true : i1
        scf.condition(%again) %f : i64
      } do {
      ^bb0(%f: i64):
        scf.yield %f : i64
      }
      func.call @fence() : () -> ()
      return %flag : i64
    }

    // The record at words field..field+6 of `status`.
    func.func private @read_status(%status: !llvm.ptr<1>, %field: i64)
        -> (i64, i64, i64, i64, i64, i64, i64) {
      %base = llvm.getelementptr %status[%field] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
      %p1 = llvm.getelementptr %base[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %p2 = llvm.getelementptr %base[2] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %p3 = llvm.getelementptr %base[3] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %p4 = llvm.getelementptr %base[4] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %p5 = llvm.getelementptr %base[5] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %p6 = llvm.getelementptr %base[6] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %r0 = llvm.load volatile %base : !llvm.ptr<1> -> i64
      %r1 = llvm.load volatile %p1 : !llvm.ptr<1> -> i64
      %r2 = llvm.load volatile %p2 : !llvm.ptr<1> -> i64
      %r3 = llvm.load volatile %p3 : !llvm.ptr<1> -> i64
      %r4 = llvm.load volatile %p4 : !llvm.ptr<1> -> i64
      %r5 = llvm.load volatile %p5 : !llvm.ptr<1> -> i64
      %r6 = llvm.load volatile %p6 : !llvm.ptr<1> -> i64
      return %r0, %r1, %r2, %r3, %r4, %r5, %r6 : i64, i64, i64, i64, i64, i64, i64
    }

    // Summary words 0..3 into mailbox words 0..3, then (after a fence that
    // orders them for the host) `sequence` into word 4.
    func.func private @post_summary(%summary: !llvm.ptr<1>, %mailbox: !llvm.ptr<1>,
                                    %sequence: i64) {
      %s1 = llvm.getelementptr %summary[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %s2 = llvm.getelementptr %summary[2] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %s3 = llvm.getelementptr %summary[3] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %m1 = llvm.getelementptr %mailbox[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %m2 = llvm.getelementptr %mailbox[2] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %m3 = llvm.getelementptr %mailbox[3] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %m4 = llvm.getelementptr %mailbox[4] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %v0 = llvm.load volatile %summary : !llvm.ptr<1> -> i64
      %v1 = llvm.load volatile %s1 : !llvm.ptr<1> -> i64
      %v2 = llvm.load volatile %s2 : !llvm.ptr<1> -> i64
      %v3 = llvm.load volatile %s3 : !llvm.ptr<1> -> i64
      llvm.store volatile %v0, %mailbox : i64, !llvm.ptr<1>
      llvm.store volatile %v1, %m1 : i64, !llvm.ptr<1>
      llvm.store volatile %v2, %m2 : i64, !llvm.ptr<1>
      llvm.store volatile %v3, %m3 : i64, !llvm.ptr<1>
      llvm.inline_asm has_side_effects "fence.sc.sys;", "~{memory}" : () -> ()
      llvm.store volatile %sequence, %m4 : i64, !llvm.ptr<1>
      return
    }

    func.func private @store_global(%base: !llvm.ptr<1>, %slot: i64, %value: i64) {
      %ptr = llvm.getelementptr %base[%slot] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
      llvm.store %value, %ptr : i64, !llvm.ptr<1>
      return
    }

    // Shared memory (%shared, i64 words; a record takes 8):
    //   0..255    each warp's total: the inclusive scan of its lanes' records
    //   256..511  each warp's exclusive prefix within the tile
    //   512..518  the tile's exclusive prefix
    //   528..559  each warp's longest document
    //   560..591  each warp's first violation
    //   600..606  the tile's inclusive prefix
    func.func private @warp_total_slot(%warp: i64) -> i64 {
      %c8 = arith.constant 8 : i64
      %at = arith.muli %warp, %c8 : i64
      return %at : i64
    }

    func.func private @warp_prefix_slot(%warp: i64) -> i64 {
      %c8 = arith.constant 8 : i64
      %warp_prefixes = arith.constant 256 : i64
      %scaled = arith.muli %warp, %c8 : i64
      %at = arith.addi %scaled, %warp_prefixes : i64
      return %at : i64
    }

    func.func private @tile_prefix_slot() -> i64 {
      %at = arith.constant 512 : i64
      return %at : i64
    }

    func.func private @warp_longest_slot(%warp: i64) -> i64 {
      %warp_longest = arith.constant 528 : i64
      %at = arith.addi %warp_longest, %warp : i64
      return %at : i64
    }

    func.func private @warp_violation_slot(%warp: i64) -> i64 {
      %warp_violations = arith.constant 560 : i64
      %at = arith.addi %warp_violations, %warp : i64
      return %at : i64
    }

    func.func private @tile_inclusive_slot() -> i64 {
      %at = arith.constant 600 : i64
      return %at : i64
    }

    func.func private @store_shared(%shared: memref<1024xi64, #gpu.address_space<workgroup>>,
                                    %at: i64, %value: i64) {
      %i = arith.index_cast %at : i64 to index
      memref.store %value, %shared[%i] : memref<1024xi64, #gpu.address_space<workgroup>>
      return
    }

    func.func private @load_shared(%shared: memref<1024xi64, #gpu.address_space<workgroup>>,
                                   %at: i64) -> i64 {
      %i = arith.index_cast %at : i64 to index
      %x = memref.load %shared[%i] : memref<1024xi64, #gpu.address_space<workgroup>>
      return %x : i64
    }

    func.func private @store_record(%shared: memref<1024xi64, #gpu.address_space<workgroup>>,
                                    %at: i64, %r0: i64, %r1: i64, %r2: i64, %r3: i64,
                                    %r4: i64, %r5: i64, %r6: i64) {
      %c1 = arith.constant 1 : i64
      %a1 = arith.addi %at, %c1 : i64
      %a2 = arith.addi %a1, %c1 : i64
      %a3 = arith.addi %a2, %c1 : i64
      %a4 = arith.addi %a3, %c1 : i64
      %a5 = arith.addi %a4, %c1 : i64
      %a6 = arith.addi %a5, %c1 : i64
      func.call @store_shared(%shared, %at, %r0) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      func.call @store_shared(%shared, %a1, %r1) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      func.call @store_shared(%shared, %a2, %r2) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      func.call @store_shared(%shared, %a3, %r3) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      func.call @store_shared(%shared, %a4, %r4) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      func.call @store_shared(%shared, %a5, %r5) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      func.call @store_shared(%shared, %a6, %r6) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64, i64) -> ()
      return
    }

    func.func private @load_record(%shared: memref<1024xi64, #gpu.address_space<workgroup>>,
                                   %at: i64) -> (i64, i64, i64, i64, i64, i64, i64) {
      %c1 = arith.constant 1 : i64
      %a1 = arith.addi %at, %c1 : i64
      %a2 = arith.addi %a1, %c1 : i64
      %a3 = arith.addi %a2, %c1 : i64
      %a4 = arith.addi %a3, %c1 : i64
      %a5 = arith.addi %a4, %c1 : i64
      %a6 = arith.addi %a5, %c1 : i64
      %r0 = func.call @load_shared(%shared, %at) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> i64
      %r1 = func.call @load_shared(%shared, %a1) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> i64
      %r2 = func.call @load_shared(%shared, %a2) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> i64
      %r3 = func.call @load_shared(%shared, %a3) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> i64
      %r4 = func.call @load_shared(%shared, %a4) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> i64
      %r5 = func.call @load_shared(%shared, %a5) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> i64
      %r6 = func.call @load_shared(%shared, %a6) : (memref<1024xi64, #gpu.address_space<workgroup>>, i64) -> i64
      return %r0, %r1, %r2, %r3, %r4, %r5, %r6 : i64, i64, i64, i64, i64, i64, i64
    }
  }
}
