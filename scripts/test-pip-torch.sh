#!/usr/bin/env bash
# The Python suite against a current PyTorch from PyPI (torch 2.11.0,
# transformers 5.23.0), as pip users get packjit: a virtual environment
# (reused between runs; PACKJIT_VENV overrides its place), packjit built by
# `pip wheel --no-build-isolation .` and installed into it, imported from
# outside the repository, then every test in tests/python. The compiler
# library comes prebuilt from the main build (scripts/build.sh), so the wheel
# build compiles the op library and runtime only. Ends with pytest's summary.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${PACKJIT_BUILD_DIR:-$repo/build}
venv=${PACKJIT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/packjit/venv-torch2.11}
python=${PACKJIT_VENV_PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  torch==2.11.0 transformers==5.23.0 pytest "scikit-build-core>=0.10"

# `pip wheel`, then `pip install` of that wheel: both of the README's
# commands, one build.
compiler=$build/lib/libpackjit_compiler.so
args=(--no-build-isolation --no-deps -q
      -C "build-dir=$repo/build-wheel"
      -C "cmake.define.CMAKE_CXX_COMPILER=${CXX:-/usr/bin/g++}")
[ -f "$compiler" ] && args+=(-C "cmake.define.PACKJIT_PREBUILT_COMPILER=$compiler")
wheels=$repo/build-wheel/dist
rm -rf "$wheels"
echo "test-pip-torch: pip wheel ${args[*]} $repo"
"$venv/bin/python" -m pip wheel --disable-pip-version-check "${args[@]}" -w "$wheels" "$repo"
"$venv/bin/python" -m pip install --disable-pip-version-check --force-reinstall --no-deps -q \
  "$wheels"/packjit-*.whl

# Installed, not the source tree: from / with no PACKJIT_* variables.
(cd / && env -u PACKJIT_LIBRARY -u PYTHONPATH "$venv/bin/python" -c \
  'import packjit, torch; print("import packjit:", packjit.__file__, packjit.build_info(), "torch", torch.__version__)')
cd "$repo"
env -u PACKJIT_LIBRARY -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1 \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/python
