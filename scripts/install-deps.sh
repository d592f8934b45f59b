#!/usr/bin/env bash
# Installs every Debian package that packjit's build, tests and benchmarks need.
# Idempotent: packages already present are skipped, apt-get is not called then.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build git xz-utils
  # clang 22 and its libFuzzer/ASan/UBSan runtimes: scripts/fuzz.sh
  clang-22 libclang-rt-22-dev
  # LLVM/MLIR 22 and what its CMake package config asks for
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  libzstd-dev zlib1g-dev libcurl4-openssl-dev libedit-dev libxml2-dev libffi-dev
  # LibTorch (CPU) and the Python package's torch
  libtorch-dev python3-torch python3-numpy python3-pytest
  # libraries
  catch2 libcli11-dev nlohmann-json3-dev libxxhash-dev libbenchmark-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
