#!/usr/bin/env bash
# find_package_test.sh BUILD EXAMPLE WORK CXX GENERATOR TORCH_PREFIX TARGETS [CMAKE_ARGS...]
# Installs BUILD into WORK/prefix, checks the installed tree, then configures,
# builds and runs the EXAMPLE project (examples/find_package) against it.
# TARGETS: the ;-separated imported targets the package must define.
set -euo pipefail
build=$1 example=$2 work=$3 cxx=$4 generator=$5 torch_prefix=$6 targets=$7
shift 7

prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
tail -n 3 "$work/install.log"

fail() { echo "FAIL: $*"; exit 1; }
cmakedir=$prefix/lib/cmake/packjit
for f in packjitConfig.cmake packjitConfigVersion.cmake packjitTargets.cmake; do
  [ -f "$cmakedir/$f" ] || fail "$cmakedir/$f not installed"
done
[ -f "$prefix/include/packjit/ops.h" ] || fail "include/packjit/ops.h not installed"
[ -f "$prefix/lib/libpackjit_torch.so" ] || fail "lib/libpackjit_torch.so not installed"
# The exported targets may not point back into the source or build tree, and
# no installed header may need a header-only dependency packjit keeps private.
src=$(cd "$example/../.." && pwd)
if grep -l -e "$src/" -e "$build/" "$cmakedir"/packjitTargets*.cmake; then
  fail "the exported targets refer to the source or build tree (above)"
fi
if grep -rl -e 'xxhash' -e 'nlohmann' -e 'CLI/CLI' "$prefix/include"; then
  fail "installed headers include private dependencies (above)"
fi

echo "== configure $example"
cmake -S "$example" -B "$work/build" -G "$generator" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" \
  "-DCMAKE_PREFIX_PATH=$prefix;$torch_prefix" "$@" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; fail "configure"; }
found=$(grep -- '-- packjit ' "$work/configure.log") ||
  { cat "$work/configure.log"; fail "no packjit line in the configure output"; }
echo "$found"
case $found in
  *" at $cmakedir:"*) ;;
  *) fail "packjit was not found in $cmakedir" ;;
esac
IFS=';' read -r -a wanted <<<"$targets"
for t in "${wanted[@]}"; do
  case " ${found##*: } " in
    *"$t"*) ;;
    *) fail "$t not defined by the installed package" ;;
  esac
done

echo "== build"
cmake --build "$work/build" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "build"; }

echo "== run"
rc=0
out=$("$work/build/unpad_example" 2>&1) || rc=$?
echo "$out"
[ "$rc" -eq 0 ] || fail "unpad_example exited $rc"
for line in "indices: 0 1 2 3 4 6 7 8 9 10 11" "cu_seqlens: 0 2 5 6 8 11" \
            "max_seqlen_in_batch: 3" "ok"; do
  grep -qxF -- "$line" <<<"$out" || fail "missing output line: $line"
done
echo "ok: the installed package builds and runs examples/find_package"
