#!/usr/bin/env bash
# The CPU test suite built with AddressSanitizer + UndefinedBehaviorSanitizer
# (g++, -fsanitize=address,undefined, UB is fatal) in build-asan/ (or
# $PACKJIT_ASAN_BUILD_DIR), then run by CTest. Exits non-zero on any failure,
# sanitizer report included. docs/reliability.md, "Sanitizer builds".
#
#   scripts/sanitize.sh [ctest arguments...]
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${PACKJIT_ASAN_BUILD_DIR:-$repo/build-asan}

# Tests left out, each for a reason that is not a sanitizer finding:
#  - packjit_python_package: python3 is not instrumented, and an ASan library
#    loaded into it needs libasan preloaded (LD_PRELOAD), under which CPython
#    and LibTorch's own allocations report leaks that are not packjit's; the
#    C++ CPU tests run the same ops directly.
#  - packjit_cmake_package: builds a consumer project of the installed
#    package, a test of the packaging; its consumer is not instrumented.
#  - compiler_ptxas_all: 326 s here (113 s in the main build), most of it
#    NVIDIA's ptxas, which is not instrumented; compiler_ptx_identical
#    compiles every specialization under the sanitizers (12 s), and CI has
#    45 minutes in all.
excluded='^(packjit_python_package|packjit_cmake_package|compiler_ptxas_all)$'

"$repo/scripts/install-deps.sh" || exit 1
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache
                                          -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# No tests/gpu: without a GPU they only skip, and under ASan each of their
# LibTorch-heavy files costs a minute of CI's two cores.
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPACKJIT_BUILD_GPU_TESTS=OFF -DCMAKE_C_COMPILER=gcc-12 -DCMAKE_CXX_COMPILER=g++-12 "${launcher[@]}" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined \
  -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined >/dev/null || exit 1
cmake --build "$build" -j "$(nproc)" || exit 1

# UB and memory errors abort the test that hit them; leaks fail it too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# CTest's summary line renamed: .ci/run reports the main build's.
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 1800 \
  -E "$excluded" "$@" | sed -E 's/^([0-9]+% tests passed)/sanitize.sh: \1/'
