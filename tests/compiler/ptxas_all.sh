#!/bin/sh
# Assembles every kernel x dtype x supported arch with ptxas: the embedded
# kernels, or with TEMPLATE the one kernel of that template file.
# Usage: ptxas_all.sh PACKJIT PTXAS WORKDIR [TEMPLATE]. Exit 77 (skipped)
# without ptxas.
packjit=$1 ptxas=$2 work=$3 template=$4
if [ ! -x "$ptxas" ]; then
  echo "SKIP: ptxas not found at $ptxas" >&2
  exit 77
fi
mkdir -p "$work" || exit 1
archs="sm_80 sm_86 sm_89 sm_90 sm_90a sm_100 sm_120"
count=0 failed=0
# `packjit compile --list` lines: NAME T:dt1|dt2 ... (the first placeholder).
"$packjit" compile --list ${template:+--template "$template"} > "$work/kernels.txt" || exit 1
while read -r kernel dtypes _; do
  for dtype in $(echo "${dtypes#*:}" | tr '|' ' '); do
    for arch in $archs; do
      ptx="$work/$kernel-$dtype-$arch.ptx"
      if ! "$packjit" compile --kernel "$kernel" ${template:+--template "$template"} \
             --dtype "$dtype" --arch "$arch" -o "$ptx" ||
         ! "$ptxas" -arch="$arch" "$ptx" -o "$ptx.cubin"; then
        echo "FAILED: $kernel $dtype $arch" >&2
        failed=$((failed + 1))
      fi
      count=$((count + 1))
    done
  done
done < "$work/kernels.txt"
echo "ptxas: $((count - failed))/$count kernel x dtype x arch assembled"
[ "$failed" -eq 0 ]
