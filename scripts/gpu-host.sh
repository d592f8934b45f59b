#!/usr/bin/env bash
# Runs on the GPU host (torch with CUDA, nvcc, compute-sanitizer;
# no LLVM, no Catch2, no network). Needs .device/ from scripts/prepare-gpu-host.sh.
#
# Builds packjit against the local torch and the prebuilt compiler, runs every
# test (GPU ones included), compute-sanitizer on the GPU tests, and the
# benchmarks. Full logs go to the folder given as $1 (default $OUT, else
# ./gpu-out), at most 8 files; a summary table is printed last.
#
# GPU test executables are named packjit_gpu_* (CTest label gpu, exit 77
# without a GPU); each also runs under compute-sanitizer memcheck, racecheck
# and initcheck,
# with PACKJIT_GPU_TESTS=quick (their small representative set).
#
# Usage: scripts/gpu-host.sh [OUT_DIR] [STEPS]   STEPS: comma list of
#   build,test,sanitize,bench,bench-cpu (default: all), and opt-in: bench-new
#   (the position-ids, get_unpad_data and compile benchmarks), sanitize-new (the
#   sanitizers on those kernels and the multi-threaded cases) and profile
#   (Nsight Compute on the mask and position-ids scans), bench-trainer (a
#   training step, the context-parallel partition), distributed (the
#   context-parallel attention test with torchrun on every GPU, or 4 ranks on
#   one GPU) and many-ranks (8 processes on one empty kernel cache; both in
#   distributed.log, docs/distributed.md). PACKJIT_GPU_TESTS=quick
#   in the environment makes the test step run the GPU tests' small set too.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${OUT:-$repo/gpu-out}}
steps=${2:-build,test,sanitize,bench,bench-cpu}
build=$repo/build-gpu
mkdir -p "$out" "$out/json"
summary=()

# step NAME LOG COMMAND...: runs COMMAND appending to LOG, records status and time.
step() {
  local name=$1 log=$2
  shift 2
  local start=$SECONDS
  echo "=== $name: $*" >>"$out/$log"
  "$@" >>"$out/$log" 2>&1
  local rc=$?
  summary+=("$(printf '%-28s %-8s %5ss  %s' "$name" "$([ $rc -eq 0 ] && echo ok || echo "FAIL $rc")" $((SECONDS - start)) "$log")")
  return $rc
}
wants() { [[ ",$steps," == *",$1,"* ]]; }
# bench_py NAME SCRIPT ARGS...: a benchmarks/ script against this build.
bench_py() {
  local name=$1 script=$2
  shift 2
  step "$name" bench.log env PYTHONUNBUFFERED=1 PYTHONPATH="$repo/python" \
    PACKJIT_LIBRARY="$build/lib/libpackjit_torch.so" "$python" "$repo/benchmarks/$script" "$@"
}

python=$(command -v python3)
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  date -u
} >"$out/host.txt" 2>&1

# Every call: .device/ travels afresh with each run, so the compiler the
# build was configured with is unpacked again (a sanitize-only call needs it).
if [ -f "$repo/.device/libpackjit_compiler.so.xz" ]; then
  mkdir -p "$repo/.device/lib"
  xz -dc "$repo/.device/libpackjit_compiler.so.xz" >"$repo/.device/lib/libpackjit_compiler.so"
fi

if wants build; then
  if [ -f "$repo/.device/libpackjit_compiler.so.xz" ]; then
    compiler_args=(-DPACKJIT_BUILD_COMPILER=OFF
                   "-DPACKJIT_PREBUILT_COMPILER=$repo/.device/lib/libpackjit_compiler.so")
  else
    echo "gpu-host: no .device/libpackjit_compiler.so.xz: building without the compiler" >>"$out/build.log"
    compiler_args=(-DPACKJIT_BUILD_COMPILER=OFF)
  fi
  # The host's default compiler (CXX=/opt/gcc/bin/g++) has no shared
  # libstdc++: use the system's, whose libstdc++ LibTorch loads (CMakeLists.txt).
  cxx=${CXX:-c++}
  if [[ "$("$cxx" -print-file-name=libstdc++.so)" != /* && -x /usr/bin/g++ ]]; then
    compiler_args+=(-DCMAKE_CXX_COMPILER=/usr/bin/g++ -DCMAKE_C_COMPILER=/usr/bin/gcc)
  fi
  step configure build.log cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DPACKJIT_TORCH_PYTHON=$python" "-DPACKJIT_EXTRA_INCLUDE_DIRS=$repo/.device/include" \
    "-DPACKJIT_PYTHON=$python" "${compiler_args[@]}"
  # -k 0: one broken part must not hide the results of the others.
  step build build.log cmake --build "$build" -j "$(nproc)" -- -k 0
fi

if wants test; then
  step ctest ctest.log ctest --test-dir "$build" --output-on-failure -j 4 --timeout 600
  step demo ctest.log "$build/bin/packjit" demo
fi

if wants sanitize; then
  # Every GPU test executable (so every kernel) under memcheck, racecheck
  # (hazards of every severity) and initcheck (reads of device memory never
  # written), on the tests' quick set. No --leak-check: PyTorch's caching
  # allocator and packjit's per-stream workspaces keep device memory until
  # the process exits, by design.
  declare -A tool_flags=([memcheck]="" [racecheck]="--racecheck-detect-level info" [initcheck]="")
  for exe in $(find "$build" -type f -perm -u+x -name 'packjit_gpu_*' | sort); do
    # A time limit per run: a kernel that hangs under a sanitizer (an earlier
    # mask_scan did under racecheck, see docs/gpu_unpad.md) fails its step
    # instead of the whole lease.
    # The multi-threaded cases ([streams]) run on their own, so a slow one
    # cannot starve the others of their time limit. Under racecheck their
    # launches are serialized (CUDA_LAUNCH_BLOCKING=1): racecheck checks
    # shared memory, which is per block, so overlapping kernels add nothing
    # to what it can find, and with four host threads launching at once its
    # own launch tracking fails ("Internal Sanitizer Error: Detected a
    # failure to track a kernel launch"; or the GPU spins at 100 % until the
    # time limit: 2 of 11 runs on 2026-11-29, docs/reliability.md).
    # memcheck and initcheck run them concurrently.
    declare -A streams_env=([memcheck]="" [racecheck]="CUDA_LAUNCH_BLOCKING=1" [initcheck]="")
    for tool in memcheck racecheck initcheck; do
      # shellcheck disable=SC2086 # the flags are words
      step "$tool $(basename "$exe")" sanitizer.log \
        env PACKJIT_GPU_TESTS=quick timeout 300 compute-sanitizer --tool "$tool" ${tool_flags[$tool]} \
        --error-exitcode 1 "$exe" "~[api-error]~[streams]"
      if [ -n "$("$exe" --list-test-names-only "[streams]" 2>/dev/null)" ]; then
        # shellcheck disable=SC2086
        step "$tool $(basename "$exe") [streams]" sanitizer.log \
          env PACKJIT_GPU_TESTS=quick ${streams_env[$tool]} timeout 90 compute-sanitizer --tool "$tool" \
          ${tool_flags[$tool]} --error-exitcode 1 "$exe" "[streams]~[api-error]"
      fi
    done
  done
fi

if wants bench-cpu; then
  step "bench cpu" bench.log "$build/bin/packjit" bench --device cpu --json "$out/json/cpu.json"
fi

if wants bench; then
  bench_py "bench unpad anchors" unpad_anchors.py --json "$out/json/unpad.json"
  bench_py "bench position ids" position_ids_bench.py --json "$out/json/position_ids.json"
  step "bench padding" bench.log env PYTHONUNBUFFERED=1 PYTHONPATH="$repo/python" PACKJIT_LIBRARY="$build/lib/libpackjit_torch.so" "$python" "$repo/benchmarks/padding_bench.py" --markdown --json "$out/json/padding.json"
  step "bench compiled block" bench.log env PYTHONUNBUFFERED=1 PYTHONPATH="$repo/python" \
    PACKJIT_LIBRARY="$build/lib/libpackjit_torch.so" "$python" "$repo/benchmarks/compiled_block.py" \
    --json "$out/json/compiled_block.json"
  step "bench cuda (C++ API)" bench.log "$build/bin/packjit" bench --device cuda --json "$out/json/cuda_cpp.json"
  if [ -x "$build/bin/packjit_launch_bench" ]; then
    step "bench launch" bench.log "$build/bin/packjit_launch_bench" --json "$out/json/launch.json"
  fi
  if "$build/bin/packjit" compile --list >/dev/null 2>&1; then
    step "bench compile" bench.log "$build/bin/packjit" bench --compile --json "$out/json/compile.json"
  fi
fi

# Opt-in: the sanitizers on the kernels changed since the last full run
# (position ids, is_indexed_packed_mask) and on the multi-threaded cases.
if wants sanitize-new; then
  exe=$build/tests/gpu/packjit_gpu_unpad_tests
  for tool in memcheck racecheck; do
    step "$tool position ids, is_indexed" sanitizer.log \
      env PACKJIT_GPU_TESTS=quick timeout 150 compute-sanitizer --tool "$tool" \
      --error-exitcode 1 "$exe" "[position_ids],is_indexed_packed_mask on CUDA"
  done
  step "racecheck [streams]" sanitizer.log \
    env PACKJIT_GPU_TESTS=quick CUDA_LAUNCH_BLOCKING=1 timeout 60 compute-sanitizer --tool racecheck \
    --error-exitcode 1 "$exe" "[streams]"
fi

# Opt-in: the benchmarks of ops changed since the last full run (quick).
if wants bench-new; then
  bench_py "bench position ids" position_ids_bench.py --json "$out/json/position_ids.json"
  bench_py "bench unpad anchors" unpad_anchors.py --json "$out/json/unpad.json"
  step "bench cuda (C++ API)" bench.log "$build/bin/packjit" bench --device cuda --json "$out/json/cuda_cpp.json"
  step "bench compile" bench.log "$build/bin/packjit" bench --compile --json "$out/json/compile.json"
  # The first result from an empty cache, the disk cache and AOT bundles
  # (with ptxas cubins and PTX only).
  step "bench launch" bench.log "$build/bin/packjit_launch_bench" --json "$out/json/launch.json"
fi

# Opt-in: the trainer-side benchmarks (docs/benchmarks.md): a training step
# of a small Llama, packjit's packed path against transformers' own, and the
# context-parallel partition kernel against the same work in plain torch.
if wants bench-trainer; then
  bench_py "bench train step" train_step_bench.py --json "$out/json/train_step.json"
  bench_py "bench cp partition" cp_partition_bench.py --json "$out/json/cp_partition.json"
fi

# Opt-in (not in the default steps): Nsight Compute on one launch of each
# scan kernel per shape (after the warm-up calls and the tiered swap): the
# full section set as text, and the per-instruction SASS stall samples as CSV
# (profile-*.csv), for the analyses in docs/gpu_unpad.md and docs/kernels.md.
if wants profile; then
  for what in position_ids_scan:1x4194304 position_ids_scan:1x1048576 mask_scan:64x65536; do
    op=${what%%:*} shape=${what#*:}
    report=$out/profile-$op-$shape
    step "profile $op $shape" profile.log env PYTHONPATH="$repo/python" \
      PACKJIT_LIBRARY="$build/lib/libpackjit_torch.so" ncu --kernel-name "regex:$op" \
      --launch-skip 3 --launch-count 1 --set full --import-source yes -f -o "$report" \
      "$python" "$repo/benchmarks/profile_kernel.py" --op "$op" --shape "$shape"
    step "profile $op $shape (details)" profile.log ncu --import "$report.ncu-rep" --print-details all
    ncu --import "$report.ncu-rep" --page source --csv --print-source sass >"$report.csv" 2>>"$out/profile.log"
    rm -f "$report.ncu-rep"
  done
fi

# Opt-in: the multi-process tests (docs/distributed.md). The context-parallel
# attention test runs one rank per GPU over NCCL; on a host with one GPU, 4
# ranks share it (over gloo: NCCL refuses two ranks on one device).
if wants distributed; then
  gpus=$("$python" -c 'import torch; print(torch.cuda.device_count())' 2>/dev/null || echo 0)
  ranks=$gpus
  [ "$gpus" -le 1 ] && ranks=4
  step "distributed cp attention ($ranks ranks, $gpus GPUs)" distributed.log \
    env PYTHONUNBUFFERED=1 PYTHONPATH="$repo/python" PACKJIT_LIBRARY="$build/lib/libpackjit_torch.so" \
    timeout 300 "$python" -m torch.distributed.run --standalone --nproc-per-node "$ranks" \
    "$repo/tests/distributed/cp_attention.py"
fi

# Opt-in: 8 processes (rank r on GPU r % GPUs) JIT-compiling into one empty
# cache directory: with flock, without a working one, read-only.
if wants many-ranks; then
  shim_args=()
  shim=$build/tests/distributed/packjit_flock_shim.so
  [ -f "$shim" ] && shim_args=(--shim "$shim") # else the test builds it with cc
  step "many ranks, one cache" distributed.log \
    env PYTHONUNBUFFERED=1 PYTHONPATH="$repo/python" PACKJIT_LIBRARY="$build/lib/libpackjit_torch.so" \
    timeout 300 "$python" "$repo/tests/distributed/many_ranks_cache.py" --ranks 8 \
    --json "$out/json/many_ranks.json" "${shim_args[@]}"
fi

tar -C "$out" -czf "$out/json.tar.gz" json && rm -rf "$out/json"
echo
echo "packjit on the GPU host: $(head -n 1 "$out/host.txt")"
printf '%s\n' "${summary[@]}"
for s in "${summary[@]}"; do [[ "$s" == *FAIL* ]] && exit 1; done
exit 0
