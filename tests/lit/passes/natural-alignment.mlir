// packjit-natural-alignment gives every llvm.load and llvm.store without an
// alignment its scalar type's size (8 for a pointer) and leaves the others.
// RUN: packjit-opt %s -pass-pipeline='builtin.module(gpu.module(packjit-natural-alignment))' \
// RUN:   | FileCheck %s

// CHECK-LABEL: gpu.module @scalars
// CHECK:         llvm.load %{{.*}} {alignment = 8 : i64} : !llvm.ptr<1> -> i64
// CHECK:         llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> f32
// CHECK:         llvm.load %{{.*}} {alignment = 2 : i64} : !llvm.ptr<1> -> bf16
// CHECK:         llvm.load %{{.*}} {alignment = 1 : i64} : !llvm.ptr<1> -> i8
// CHECK:         llvm.load %{{.*}} {alignment = 1 : i64} : !llvm.ptr<1> -> i1
// CHECK:         llvm.load %{{.*}} {alignment = 8 : i64} : !llvm.ptr<1> -> !llvm.ptr<1>
// CHECK:         llvm.store %{{.*}}, %{{.*}} {alignment = 8 : i64} : i64, !llvm.ptr<1>
// CHECK:         llvm.store %{{.*}}, %{{.*}} {alignment = 2 : i64} : f16, !llvm.ptr<1>
gpu.module @scalars {
  llvm.func @f(%p: !llvm.ptr<1>, %h: f16) {
    %a = llvm.load %p : !llvm.ptr<1> -> i64
    %b = llvm.load %p : !llvm.ptr<1> -> f32
    %c = llvm.load %p : !llvm.ptr<1> -> bf16
    %d = llvm.load %p : !llvm.ptr<1> -> i8
    %e = llvm.load %p : !llvm.ptr<1> -> i1
    %q = llvm.load %p : !llvm.ptr<1> -> !llvm.ptr<1>
    llvm.store %a, %p : i64, !llvm.ptr<1>
    llvm.store %h, %p : f16, !llvm.ptr<1>
    llvm.return
  }
}

// An alignment already given is kept; vectors are left alone.
// CHECK-LABEL: gpu.module @kept
// CHECK:         llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> i64
// CHECK:         llvm.load %{{.*}} : !llvm.ptr<1> -> vector<4xi32>
// CHECK:         llvm.store %{{.*}}, %{{.*}} : vector<4xi32>, !llvm.ptr<1>
gpu.module @kept {
  llvm.func @f(%p: !llvm.ptr<1>) {
    %a = llvm.load %p {alignment = 16 : i64} : !llvm.ptr<1> -> i64
    %v = llvm.load %p : !llvm.ptr<1> -> vector<4xi32>
    llvm.store %v, %p : vector<4xi32>, !llvm.ptr<1>
    llvm.return
  }
}
