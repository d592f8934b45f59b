#!/usr/bin/env bash
# Installs, builds, and runs every test: CTest over the main build (Debian's
# LibTorch 1.13: C++ tests, the Python suite on the system python3, lit,
# ptxas, the CMake package), the CPU suite again under ASan + UBSan
# (scripts/sanitize.sh), a short run of every fuzz target
# (scripts/fuzz.sh, PACKJIT_FUZZ_SECONDS each, default 20), then the Python
# suite against PyPI's torch 2.11 with packjit pip-installed
# (scripts/test-pip-torch.sh). Exits non-zero when any of them fails;
# pytest's summary line is the last thing printed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${PACKJIT_BUILD_DIR:-$repo/build}

"$repo/scripts/build.sh" || exit 1
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 900
ctest_status=$?
"$repo/scripts/sanitize.sh"
sanitize_status=$?
"$repo/scripts/fuzz.sh" --seconds "${PACKJIT_FUZZ_SECONDS:-20}"
fuzz_status=$?
"$repo/scripts/test-pip-torch.sh"
pip_status=$?
[ "$ctest_status" -eq 0 ] && [ "$sanitize_status" -eq 0 ] &&
  [ "$fuzz_status" -eq 0 ] && [ "$pip_status" -eq 0 ]
