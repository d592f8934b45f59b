// A dtype binding whose type does not parse. MLIR's type parser reports the
// syntax error first, located in the binding's text ("int32:1:1"), where
// -verify-diagnostics cannot expect it: only the expected error is checked.
// RUN: packjit-opt %s -allow-unregistered-dialect \
// RUN:   -packjit-specialize="dtypes=T=int32" -verify-diagnostics=only-expected

// expected-error@+1 {{packjit-specialize: malformed dtype binding 'T=int32' (expected NAME=TYPE)}}
module {
}
