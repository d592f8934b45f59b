#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang 22 under ASan + UBSan in
# build-fuzz/ and runs each for N seconds (default 60) on a copy of its seed
# corpus (fuzz/corpus/<target>/). Prints per target the executions, the
# coverage (libFuzzer's cov: edges, ft: features) and the crashes; exits
# non-zero when any target crashed, leaked, hit UB or failed to build.
# --seconds 0 only builds.
# A crash leaves its input in build-fuzz/crashes/<target>/; reproduce it with
#   build-fuzz/bin/<target> <that file>
#
#   scripts/fuzz.sh [--seconds N] [target...]
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${PACKJIT_FUZZ_BUILD_DIR:-$repo/build-fuzz}
seconds=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
  --seconds) seconds=$2; shift 2 ;;
  --seconds=*) seconds=${1#*=}; shift ;;
  -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
  -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
  *) targets+=("$1"); shift ;;
  esac
done
all_targets=(kernel_spec_fuzzer template_header_fuzzer cache_file_fuzzer
             bundle_fuzzer mask_scan_fuzzer position_ids_fuzzer
             gather_scatter_fuzzer)
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

cc=${PACKJIT_FUZZ_CC:-clang-22}
cxx=${PACKJIT_FUZZ_CXX:-clang++-22}
command -v "$cxx" >/dev/null || {
  echo "fuzz.sh: $cxx not found (scripts/install-deps.sh installs clang-22)" >&2
  exit 1
}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache
                                          -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Every target of the project instrumented (fuzzer-no-link: coverage for
# libFuzzer); UB stops the run like a crash.
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined"
if [ ! -f "$build/build.ninja" ]; then
  mkdir -p "$build"
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" \
    -DPACKJIT_BUILD_COMPILER=OFF -DPACKJIT_BUILD_TESTS=OFF \
    -DPACKJIT_BUILD_FUZZERS=ON >"$build/configure.log" 2>&1 || {
    cat "$build/configure.log" >&2
    echo "fuzz.sh: configure failed" >&2
    exit 1
  }
fi
ninja -C "$build" -j "$(nproc)" "${targets[@]}" || {
  echo "fuzz.sh: build failed" >&2
  exit 1
}

[ "$seconds" -gt 0 ] || exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
printf '%-24s %10s %8s %8s %8s %s\n' target executions cov ft crashes seconds
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  crashes="$build/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  log="$build/logs/$target.log"
  mkdir -p "$(dirname "$log")"
  start=$(date +%s)
  # Only this run's findings count; earlier ones stay for reproducing.
  marker="$crashes/.run-start"
  touch "$marker"
  # The checked-in seeds, then what this build directory found before
  # (merged into the writable corpus; the repository's stays as it is).
  (cd "$crashes" && "$build/bin/$target" -max_total_time="$seconds" \
    -print_final_stats=1 -rss_limit_mb=4096 -timeout=30 \
    -artifact_prefix="$crashes/" "$corpus" "$repo/fuzz/corpus/$target") \
    >"$log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n1)
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+')
  ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+')
  found=$(find "$crashes" -type f -newer "$marker" \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  printf '%-24s %10s %8s %8s %8s %s\n' "$target" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$found" "$elapsed"
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    echo "fuzz.sh: $target failed (exit $rc); log $log, inputs in $crashes" >&2
    grep -E 'ERROR|runtime error|mismatch|SUMMARY|==[0-9]+==' "$log" | head -n 20 >&2
  fi
done
exit "$status"
