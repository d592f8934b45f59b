#!/usr/bin/env bash
# Run here (the Debian build machine) before a run on the GPU host, which has
# no LLVM/MLIR and no package manager. Fills the
# git-ignored folder .device/ with what the host cannot make itself:
#   .device/libpackjit_compiler.so.xz  the compiler, LLVM/MLIR linked in (xz: it travels)
#   .device/include/                   header-only dependencies (Catch2, CLI11,
#                                      nlohmann-json, xxhash)
# Then carry .device with the call and run scripts/gpu-host.sh there.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${PACKJIT_BUILD_DIR:-$repo/build}
dest=$repo/.device

"$repo/scripts/install-deps.sh"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPACKJIT_BUILD_COMPILER=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target packjit_compiler

rm -rf "$dest"
mkdir -p "$dest/include"
# The build's own library (the package test installs an older copy under tests/).
compiler=$build/lib/libpackjit_compiler.so
[ -f "$compiler" ] || { echo "prepare-gpu-host: $compiler not built" >&2; exit 1; }
xz -9 -T0 -c "$compiler" >"$dest/libpackjit_compiler.so.xz"
cp -r /usr/include/catch2 /usr/include/CLI /usr/include/nlohmann "$dest/include/"
cp /usr/include/xxhash.h "$dest/include/"
du -sh "$dest" "$dest"/libpackjit_compiler.so.xz
