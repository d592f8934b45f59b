// A constexpr binding that is not NAME=INTEGER.
// RUN: packjit-opt %s -allow-unregistered-dialect \
// RUN:   -packjit-specialize="constexprs=N=four" -verify-diagnostics

// expected-error@+1 {{packjit-specialize: malformed constexpr binding 'N=four' (expected NAME=INTEGER)}}
module {
}
