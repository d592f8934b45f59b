#!/usr/bin/env bash
# Installs, builds, and runs every test through CTest. CTest's summary line
# is the last thing it prints; its exit status is this script's.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${PACKJIT_BUILD_DIR:-$repo/build}

"$repo/scripts/build.sh"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 900
