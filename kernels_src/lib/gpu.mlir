// GPU primitives several kernels use: 64-bit warp shuffles and the
// GPU-scope fence. Not a kernel: a template's gpu.module includes it.

// One 64-bit shuffle: mode 0 up, 1 down, 2 index (from lane `offset`).
func.func private @shfl64(%x: i64, %offset: i64, %mode: i64) -> i64 {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c32 = arith.constant 32 : i64
  %all = arith.constant -1 : i32
  %clamp_up = arith.constant 0 : i32
  %clamp = arith.constant 31 : i32
  %lo = arith.trunci %x : i64 to i32
  %hi_wide = arith.shrui %x, %c32 : i64
  %hi = arith.trunci %hi_wide : i64 to i32
  %off = arith.trunci %offset : i64 to i32
  %is_up = arith.cmpi eq, %mode, %c0 : i64
  %is_down = arith.cmpi eq, %mode, %c1 : i64
  %lo2, %hi2 = scf.if %is_up -> (i32, i32) {
    %a = nvvm.shfl.sync up %all, %lo, %off, %clamp_up : i32 -> i32
    %b = nvvm.shfl.sync up %all, %hi, %off, %clamp_up : i32 -> i32
    scf.yield %a, %b : i32, i32
  } else {
    %r:2 = scf.if %is_down -> (i32, i32) {
      %a = nvvm.shfl.sync down %all, %lo, %off, %clamp : i32 -> i32
      %b = nvvm.shfl.sync down %all, %hi, %off, %clamp : i32 -> i32
      scf.yield %a, %b : i32, i32
    } else {
      %a = nvvm.shfl.sync idx %all, %lo, %off, %clamp : i32 -> i32
      %b = nvvm.shfl.sync idx %all, %hi, %off, %clamp : i32 -> i32
      scf.yield %a, %b : i32, i32
    }
    scf.yield %r#0, %r#1 : i32, i32
  }
  %lo64 = arith.extui %lo2 : i32 to i64
  %hi64 = arith.extui %hi2 : i32 to i64
  %hi_shifted = arith.shli %hi64, %c32 : i64
  %y = arith.ori %hi_shifted, %lo64 : i64
  return %y : i64
}

// Orders this thread's global accesses for the whole GPU.
func.func private @fence() {
  llvm.inline_asm has_side_effects "fence.acq_rel.gpu;", "~{memory}" : () -> ()
  return
}
