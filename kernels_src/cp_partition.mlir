// cp_partition: one context-parallel rank's share of a packed THD batch
// (context_parallel_partition), TransformerEngine's rule: document d of
// padded length P_d = cu[d+1] - cu[d] is cut into 2*cp_size chunks of
// c_d = P_d / (2*cp_size) tokens and rank r keeps chunks r and
// 2*cp_size-1-r, in that order.
// @dtype T: i32 i64
// @constexpr BLOCK = 256 in 32..1024 multiple_of 32
//
// Kernel ABI, the PTX parameters in order (pointers are .u64 global addresses):
//   cu            T*    [documents + 1] cu_seqlens_padded
//   documents     i64   D
//   cp_size       i64   >= 1
//   cp_rank       i64   in [0, cp_size)
//   check         i64   1: the document pass (below), 0: skip it
//   cu_local      i32*  [documents + 1], cu[d] / cp_size (document pass)
//   summary       i64*  [3], all -1 before the launch (document pass):
//                       [0] cu[D],
//                       [1] max P_d / cp_size (atomic max; 0 when D = 0),
//                       [2] the first bad document, -1 when none (unsigned
//                           atomic min: -1 is the largest unsigned value)
//   indices       i64*  [tokens]: the rank's global positions, -1 for
//                       t >= cu[D] / cp_size
//   tokens        i64   entries of indices to write (0: none)
// A document is bad when P_d < 0, P_d is not a multiple of 2*cp_size, or
// (d = 0) cu[0] != 0. The token pass assumes good documents: on bad ones
// its indices are unspecified, but every access stays in bounds.
// Launch: blockDim = (BLOCK, 1, 1) (.reqntid), any gridDim.x: grid-stride
// loops over the documents (D + 1 items) and the tokens.
// How it works: docs/kernels.md#cp_partition.
module {
  gpu.module @packjit {
    gpu.func @cp_partition(%cu: !llvm.ptr<1>, %documents: i64, %cp_size: i64,
                           %cp_rank: i64, %check: i64, %cu_local: !llvm.ptr<1>,
                           %summary: !llvm.ptr<1>, %indices: !llvm.ptr<1>,
                           %tokens: i64,
                           %block: i64 {packjit.constexpr = "BLOCK"})
        kernel attributes {packjit.block = "BLOCK"} {
      %c0 = arith.constant 0 : i64
      %c1 = arith.constant 1 : i64
      %c2 = arith.constant 2 : i64
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %grid = gpu.grid_dim x
      %t = arith.index_cast %tid : index to i64
      %b = arith.index_cast %bid : index to i64
      %g = arith.index_cast %grid : index to i64
      %block_start = arith.muli %b, %block : i64
      %first = arith.addi %block_start, %t : i64
      %stride = arith.muli %g, %block : i64
      %chunks = arith.muli %cp_size, %c2 : i64
      %total_ptr = llvm.getelementptr %summary[0] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %max_ptr = llvm.getelementptr %summary[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64
      %bad_ptr = llvm.getelementptr %summary[2] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i64

      // The document pass: cu_local, the checks, the longest local share.
      %checking = arith.cmpi ne, %check, %c0 : i64
      %items0 = arith.addi %documents, %c1 : i64
      %items = arith.select %checking, %items0, %c0 : i64
      scf.for %d = %first to %items step %stride : i64 {
        %start = func.call @boundary(%cu, %d) : (!llvm.ptr<1>, i64) -> i64
        %local = arith.divsi %start, %cp_size : i64
        %local32 = arith.trunci %local : i64 to i32
        %local_ptr = llvm.getelementptr %cu_local[%d] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i32
        llvm.store %local32, %local_ptr : i32, !llvm.ptr<1>
        %is_first = arith.cmpi eq, %d, %c0 : i64
        %nonzero_start = arith.cmpi ne, %start, %c0 : i64
        %bad_start = arith.andi %is_first, %nonzero_start : i1
        %is_last = arith.cmpi eq, %d, %documents : i64
        %bad = scf.if %is_last -> (i1) {
          llvm.store %start, %total_ptr : i64, !llvm.ptr<1>
          %old = llvm.atomicrmw max %max_ptr, %c0 monotonic : !llvm.ptr<1>, i64
          scf.yield %bad_start : i1
        } else {
          %next_d = arith.addi %d, %c1 : i64
          %next = func.call @boundary(%cu, %next_d) : (!llvm.ptr<1>, i64) -> i64
          %length = arith.subi %next, %start : i64
          %negative = arith.cmpi slt, %length, %c0 : i64
          %rest = arith.remsi %length, %chunks : i64
          %uneven = arith.cmpi ne, %rest, %c0 : i64
          %bad_length = arith.ori %negative, %uneven : i1
          %bad_doc = arith.ori %bad_length, %bad_start : i1
          %share = arith.divsi %length, %cp_size : i64
          %positive = arith.cmpi sgt, %share, %c0 : i64
          scf.if %positive {
            %old = llvm.atomicrmw max %max_ptr, %share monotonic : !llvm.ptr<1>, i64
          }
          scf.yield %bad_doc : i1
        }
        scf.if %bad {
          %old = llvm.atomicrmw umin %bad_ptr, %d monotonic : !llvm.ptr<1>, i64
        }
      }

      // The token pass: local token t of this rank lies in the document d
      // with cu[d] <= t * cp_size < cu[d+1] (binary search; the boundaries
      // stay in L1/L2), at offset j = t - cu[d] / cp_size of its 2 * c_d
      // local tokens.
      %has_tokens = arith.cmpi sgt, %tokens, %c0 : i64
      scf.if %has_tokens {
        %end = func.call @boundary(%cu, %documents) : (!llvm.ptr<1>, i64) -> i64
        %mirror0 = arith.subi %chunks, %c2 : i64
        %mirror = arith.subi %mirror0, %cp_rank : i64
        scf.for %i = %first to %tokens step %stride : i64 {
          %global = arith.muli %i, %cp_size : i64
          %beyond = arith.cmpi sge, %global, %end : i64
          %position = scf.if %beyond -> (i64) {
            %minus1 = arith.constant -1 : i64
            scf.yield %minus1 : i64
          } else {
            %d = func.call @find_document(%cu, %documents, %global)
                : (!llvm.ptr<1>, i64, i64) -> i64
            %start = func.call @boundary(%cu, %d) : (!llvm.ptr<1>, i64) -> i64
            %next_d = arith.addi %d, %c1 : i64
            %next = func.call @boundary(%cu, %next_d) : (!llvm.ptr<1>, i64) -> i64
            %length = arith.subi %next, %start : i64
            %chunk = arith.divsi %length, %chunks : i64
            %start_local = arith.divsi %start, %cp_size : i64
            %j = arith.subi %i, %start_local : i64
            // j < c_d: chunk cp_rank; else chunk 2*cp_size-1-cp_rank, whose
            // first token is j = c_d, so (2*cp_size-2-cp_rank) * c_d + j.
            %first_half = arith.cmpi slt, %j, %chunk : i64
            %which = arith.select %first_half, %cp_rank, %mirror : i64
            %skip = arith.muli %which, %chunk : i64
            %offset = arith.addi %skip, %j : i64
            %p = arith.addi %start, %offset : i64
            scf.yield %p : i64
          }
          %out = llvm.getelementptr %indices[%i] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i64
          llvm.store %position, %out : i64, !llvm.ptr<1>
        }
      }
      gpu.return
    }

    // cu[d], widened to i64.
    func.func private @boundary(%cu: !llvm.ptr<1>, %d: i64) -> i64 {
      %ptr = llvm.getelementptr %cu[%d] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
      %v = llvm.load %ptr : !llvm.ptr<1> -> !packjit.T
      %wide = arith.index_cast %v : !packjit.T to index
      %x = arith.index_cast %wide : index to i64
      return %x : i64
    }

    // The d in [0, documents) with cu[d] <= global < cu[d+1], for
    // cu[0] <= global < cu[documents]: bisection keeps cu[lo] <= global <
    // cu[hi] (also on bad boundaries, so d stays in range).
    func.func private @find_document(%cu: !llvm.ptr<1>, %documents: i64,
                                     %global: i64) -> i64 {
      %c1 = arith.constant 1 : i64
      %c0 = arith.constant 0 : i64
      %found:2 = scf.while (%lo = %c0, %hi = %documents) : (i64, i64) -> (i64, i64) {
        %width = arith.subi %hi, %lo : i64
        %open = arith.cmpi sgt, %width, %c1 : i64
        scf.condition(%open) %lo, %hi : i64, i64
      } do {
      ^bb0(%lo: i64, %hi: i64):
        %sum = arith.addi %lo, %hi : i64
        %mid = arith.shrui %sum, %c1 : i64
        %at = func.call @boundary(%cu, %mid) : (!llvm.ptr<1>, i64) -> i64
        %below = arith.cmpi sle, %at, %global : i64
        %lo2 = arith.select %below, %mid, %lo : i64
        %hi2 = arith.select %below, %hi, %mid : i64
        scf.yield %lo2, %hi2 : i64, i64
      }
      return %found#0 : i64
    }
  }
}
