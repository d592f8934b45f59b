#!/usr/bin/env bash
# Installs what the build needs, then configures and builds packjit in
# build/ (or $PACKJIT_BUILD_DIR). Extra arguments go to CMake's configure step.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${PACKJIT_BUILD_DIR:-$repo/build}

"$repo/scripts/install-deps.sh"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" -j "$(nproc)"
