// packjit-specialize binds constexpr arguments to constants and dtype
// placeholders (!packjit.NAME) to types.
// Templates parse as the compiler parses them: placeholders allowed, no
// verification until they are bound (the pass's own verification follows).
// RUN: packjit-opt %s -split-input-file -allow-unregistered-dialect \
// RUN:   -mlir-very-unsafe-disable-verifier-on-parsing \
// RUN:   -packjit-specialize="constexprs=N=12,BLOCK=128 dtypes=T=f32,U=i8" \
// RUN:   | FileCheck %s

// A constexpr argument becomes an arith.constant of its type and leaves the
// signature; the others keep their places.
// CHECK-LABEL: gpu.func @constexprs
// CHECK-SAME:    (%[[P:.*]]: !llvm.ptr<1>, %[[X:.*]]: i64) kernel
// CHECK-DAG:     %[[N:.*]] = arith.constant 12 : i64
// CHECK-DAG:     %[[B:.*]] = arith.constant 128 : index
// CHECK:         llvm.getelementptr %[[P]][%[[N]]]
// CHECK:         arith.addi %[[X]], %[[N]] : i64
// CHECK:         arith.index_cast %[[B]] : index to i64
gpu.module @packjit {
  gpu.func @constexprs(%p: !llvm.ptr<1>, %n: i64 {packjit.constexpr = "N"},
                       %x: i64, %b: index {packjit.constexpr = "BLOCK"}) kernel {
    %q = llvm.getelementptr %p[%n] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, i8
    %s = arith.addi %x, %n : i64
    %bi = arith.index_cast %b : index to i64
    gpu.return
  }
}

// -----

// Helpers take constexprs too.
// CHECK-LABEL: func.func private @helper()
// CHECK:         %[[N:.*]] = arith.constant 12 : i32
// CHECK:         return %[[N]] : i32
gpu.module @packjit {
  func.func private @helper(%n: i32 {packjit.constexpr = "N"}) -> i32 {
    return %n : i32
  }
}

// -----

// packjit.block names the constexpr that is the block size.
// CHECK-LABEL: gpu.func @block
// CHECK-SAME:    kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK-NOT:   packjit.block
gpu.module @packjit {
  gpu.func @block(%b: i64 {packjit.constexpr = "BLOCK"}) kernel
      attributes {packjit.block = "BLOCK"} {
    gpu.return
  }
}

// -----

// packjit.threads_per_sm becomes nvvm.minctasm, the blocks of BLOCK threads
// per SM (at least one), so ptxas caps the registers to fit them.
// CHECK-LABEL: gpu.func @threads_per_sm
// CHECK-SAME:    known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME:    nvvm.minctasm = 5 : i32
// CHECK-NOT:   packjit.threads_per_sm
// CHECK-LABEL: gpu.func @fewer_threads_than_a_block
// CHECK-SAME:    nvvm.minctasm = 1 : i32
gpu.module @packjit {
  gpu.func @threads_per_sm(%b: i64 {packjit.constexpr = "BLOCK"}) kernel
      attributes {packjit.block = "BLOCK", packjit.threads_per_sm = 640 : i64} {
    gpu.return
  }
  gpu.func @fewer_threads_than_a_block(%b: i64 {packjit.constexpr = "BLOCK"}) kernel
      attributes {packjit.block = "BLOCK", packjit.threads_per_sm = 64 : i64} {
    gpu.return
  }
}

// -----

// Placeholders are replaced everywhere a type goes: results, GEP element
// types, block arguments and results of regions, type attributes.
// CHECK-LABEL: gpu.func @dtypes
// CHECK-SAME:    (%{{.*}}: !llvm.ptr<1>, %{{.*}}: i8) kernel attributes {elem = f32}
// CHECK:         %[[V:.*]] = llvm.load %{{.*}} : !llvm.ptr<1> -> f32
// CHECK:         llvm.getelementptr %{{.*}}[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, i8
// CHECK:         scf.for {{.*}} iter_args(%{{.*}} = %[[V]]) -> (f32)
// CHECK-NOT:     !packjit
gpu.module @packjit {
  gpu.func @dtypes(%p: !llvm.ptr<1>, %u: !packjit.U) kernel
      attributes {elem = !packjit.T} {
    %v = llvm.load %p : !llvm.ptr<1> -> !packjit.T
    %q = llvm.getelementptr %p[1] : (!llvm.ptr<1>) -> !llvm.ptr<1>, !packjit.U
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c1 = arith.constant 1 : index
    %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %v) -> (!packjit.T) {
      scf.yield %acc : !packjit.T
    }
    gpu.return
  }
}
