// Every error of packjit-specialize that a template can cause.
// RUN: packjit-opt %s -split-input-file -allow-unregistered-dialect \
// RUN:   -mlir-very-unsafe-disable-verifier-on-parsing -packjit-specialize="constexprs=N=4 dtypes=T=i32" -verify-diagnostics

// Templates parse with unregistered dialects allowed (for the placeholders),
// so an operation of an unknown dialect is caught here.
gpu.module @packjit {
  gpu.func @unknown_dialect(%x: i32) kernel {
    // expected-error@+1 {{unknown operation 'ari.addi' (its dialect is not registered with packjit)}}
    %y = "ari.addi"(%x, %x) : (i32, i32) -> i32
    gpu.return
  }
}

// -----

gpu.module @packjit {
  // expected-error@+1 {{constexpr 'M' (argument 0) has no value}}
  gpu.func @no_value(%m: i64 {packjit.constexpr = "M"}) kernel {
    gpu.return
  }
}

// -----

gpu.module @packjit {
  // expected-error@+1 {{constexpr 'N' must be a signless integer or index, got 'f32'}}
  gpu.func @float_constexpr(%n: f32 {packjit.constexpr = "N"}) kernel {
    gpu.return
  }
}

// -----

gpu.module @packjit {
  // expected-error@+1 {{packjit.block names 'BLOCK', which is not a constexpr of a gpu.func}}
  gpu.func @unknown_block() kernel attributes {packjit.block = "BLOCK"} {
    gpu.return
  }
}

// -----

gpu.module @packjit {
  // expected-error@+1 {{packjit.block names 'N', which is not a constexpr of a gpu.func}}
  func.func private @block_on_helper() attributes {packjit.block = "N"} {
    return
  }
}

// -----

// expected-error@+1 {{dtype placeholder !packjit.U has no binding}}
module {
  gpu.module @packjit {
    gpu.func @unbound(%p: !llvm.ptr<1>) kernel {
      %v = llvm.load %p : !llvm.ptr<1> -> !packjit.U
      gpu.return
    }
  }
}

// -----

gpu.module @packjit {
  // expected-error@+1 {{packjit.threads_per_sm needs packjit.block}}
  gpu.func @threads_without_block() kernel attributes {packjit.threads_per_sm = 512 : i64} {
    gpu.return
  }
}
