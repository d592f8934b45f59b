// packjit-inline-helpers inlines a template's single-block func.func helpers
// into its gpu.func kernels, then erases the private helpers nothing reaches.
// RUN: packjit-opt %s -split-input-file -allow-unregistered-dialect \
// RUN:   -packjit-inline-helpers | FileCheck %s

// Helpers that call helpers are inlined all the way down and erased.
// CHECK-LABEL: gpu.module @nested
// CHECK:         gpu.func @kernel(%[[N:.*]]: i64)
// CHECK-DAG:       %[[C1:.*]] = arith.constant 1 : i64
// CHECK-DAG:       %[[C2:.*]] = arith.constant 2 : i64
// CHECK:           %[[X:.*]] = arith.muli %[[N]], %[[C2]] : i64
// CHECK:           %[[Y:.*]] = arith.addi %[[X]], %[[C1]] : i64
// CHECK:           "test.use"(%[[Y]])
// CHECK-NOT:     func.call
// CHECK-NOT:     func.func
gpu.module @nested {
  gpu.func @kernel(%n: i64) kernel {
    %at = func.call @offset(%n) : (i64) -> i64
    "test.use"(%at) : (i64) -> ()
    gpu.return
  }
  func.func private @offset(%n: i64) -> i64 {
    %c1 = arith.constant 1 : i64
    %x = func.call @scale(%n) : (i64) -> i64
    %y = arith.addi %x, %c1 : i64
    return %y : i64
  }
  func.func private @scale(%n: i64) -> i64 {
    %c2 = arith.constant 2 : i64
    %x = arith.muli %n, %c2 : i64
    return %x : i64
  }
}

// -----

// A call inside an scf region is inlined into that region.
// CHECK-LABEL: gpu.module @in_region
// CHECK:         scf.if
// CHECK-NEXT:      %[[X:.*]] = arith.addi
// CHECK-NEXT:      "test.use"(%[[X]])
// CHECK-NOT:     func.func
gpu.module @in_region {
  gpu.func @kernel(%c: i1, %n: i64) kernel {
    scf.if %c {
      %x = func.call @double(%n) : (i64) -> i64
      "test.use"(%x) : (i64) -> ()
    }
    gpu.return
  }
  func.func private @double(%n: i64) -> i64 {
    %x = arith.addi %n, %n : i64
    return %x : i64
  }
}

// -----

// A multi-block helper cannot go into a single-block region: it stays a call
// (the lowering inlines it after the conversion to NVVM), and so does the
// helper.
// CHECK-LABEL: gpu.module @multi_block
// CHECK:         func.call @pick
// CHECK:         func.func private @pick
gpu.module @multi_block {
  gpu.func @kernel(%n: i64) kernel {
    %r = func.call @pick(%n) : (i64) -> i64
    "test.use"(%r) : (i64) -> ()
    gpu.return
  }
  func.func private @pick(%n: i64) -> i64 {
    %c0 = arith.constant 0 : i64
    %big = arith.cmpi sgt, %n, %c0 : i64
    cf.cond_br %big, ^yes, ^no
  ^yes:
    return %n : i64
  ^no:
    return %c0 : i64
  }
}

// -----

// Recursion ends after a bounded number of rounds; the call stays.
// CHECK-LABEL: gpu.module @recursive
// CHECK:         func.call @forever
// CHECK:         func.func private @forever
gpu.module @recursive {
  gpu.func @kernel(%n: i64) kernel {
    %r = func.call @forever(%n) : (i64) -> i64
    gpu.return
  }
  func.func private @forever(%n: i64) -> i64 {
    %r = func.call @forever(%n) : (i64) -> i64
    return %r : i64
  }
}

// -----

// Only private helpers that nothing reaches are erased; a public one stays.
// CHECK-LABEL: gpu.module @unreached
// CHECK-NOT:     @private_unused
// CHECK:         func.func @public_unused
// CHECK-NOT:     @private_unused
gpu.module @unreached {
  gpu.func @kernel() kernel {
    gpu.return
  }
  func.func private @private_unused() {
    return
  }
  func.func @public_unused() {
    return
  }
}
