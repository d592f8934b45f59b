#!/usr/bin/env bash
# Plots a GPU-host run's benchmark JSON (<out>/json of scripts/gpu-host.sh)
# into docs/plots/ with matplotlib from PyPI, in the virtual environment that
# scripts/test-pip-torch.sh keeps (created here if missing).
# Usage: scripts/plot-benchmarks.sh JSON_DIR [--out DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${PACKJIT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/packjit/venv-torch2.11}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check matplotlib
"$venv/bin/python" "$repo/benchmarks/plot_benchmarks.py" "$@"
