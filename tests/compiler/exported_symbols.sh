#!/bin/sh
# Fails when libpackjit_compiler.so exports anything but packjit's compiler API.
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | c++filt |
      grep -v -e '^packjit::compiler::' -e '^packjit_compiler_' -e '^_init$' -e '^_fini$')
count=$(nm -D --defined-only "$lib" | wc -l)
if [ -n "$bad" ]; then
  echo "unexpected exported symbols:"; echo "$bad"; exit 1
fi
echo "ok: $count exported symbols, all packjit's compiler API"
