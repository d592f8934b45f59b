#!/usr/bin/env bash
# The main job: installs, builds, then runs `packjit demo` (on the GPU when
# there is one). Extra arguments go to `packjit demo`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${PACKJIT_BUILD_DIR:-$repo/build}

"$repo/scripts/build.sh"
"$build/bin/packjit" demo "$@"
