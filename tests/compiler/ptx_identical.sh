#!/bin/sh
# The PTX of every specialization recorded in ptx_golden.txt is byte for byte
# the one recorded there (ptx_digests prints the matrix). Specializations not
# recorded yet (a new kernel) are listed, not failed. A change that means to
# alter code generation (a template's code, the pipeline's passes, the LLVM
# version) regenerates the file:
#   build/tests/compiler/ptx_digests > tests/compiler/ptx_golden.txt
# Usage: ptx_identical.sh PTX_DIGESTS GOLDEN WORKDIR
digests=$1 golden=$2 work=$3
mkdir -p "$work" || exit 1
"$digests" > "$work/ptx_digests.txt" || exit 1
new=$(grep -Fxv -f "$golden" "$work/ptx_digests.txt")
changed=$(grep -Fxv -f "$work/ptx_digests.txt" "$golden")
if [ -n "$changed" ]; then
  echo "FAILED: PTX differs from $golden (recorded digest, then now):" >&2
  echo "$changed" | while read -r kernel dtype arch constexprs digest; do
    echo "  $kernel $dtype $arch $constexprs: $digest -> $(grep -F "$kernel $dtype $arch $constexprs " "$work/ptx_digests.txt" | cut -d' ' -f5)" >&2
  done
  exit 1
fi
if [ -n "$new" ]; then
  echo "not recorded in $golden yet:"
  echo "$new"
fi
echo "ptx: $(wc -l < "$golden") specializations byte-identical to $golden"
