"""Finds and loads libpackjit_torch.so, which registers torch.ops.packjit.

Beside the library, ``packjit_build.json`` (written by the build) names the
torch it was compiled against: a library built for another torch fails with
an undefined symbol deep inside ``dlopen``, so that is checked first and
reported in words.
"""

import json
import os
import re
from pathlib import Path

import torch

_LIBRARY_NAME = "libpackjit_torch.so"
_BUILD_INFO = "packjit_build.json"
_loaded_path = None

# Every op the package calls: a library that lacks one (another version's)
# is refused at import, not with an AttributeError at the first call.
_REQUIRED_OPS = (
    "get_unpad_data", "get_unpad_data_padded", "get_seqlens_in_batch",
    "is_indexed_packed_mask", "cu_seqlens_from_position_ids",
    "cu_seqlens_from_position_ids_padded", "unpad_input", "pad_input",
    "unpad_inputs", "unpad_input_from_mask", "wait_for_background_compiles",
    "packing_metadata", "packing_metadata_padded")


def _registered(op):
    try:
        getattr(torch.ops.packjit, op)
        return True
    except (AttributeError, RuntimeError):
        return False


def _candidates():
    env = os.environ.get("PACKJIT_LIBRARY")
    if env:
        yield Path(env)
        return  # an explicit choice is never second-guessed
    here = Path(__file__).resolve().parent
    yield here / "lib" / _LIBRARY_NAME  # pip install, or a copy next to the package
    repo = here.parent.parent
    for build in sorted(repo.glob("build*/lib/" + _LIBRARY_NAME)):
        yield build


def library_path():
    """The path of the op library that is (or would be) loaded."""
    if _loaded_path is not None:
        return _loaded_path
    tried = []
    for candidate in _candidates():
        if candidate.is_file():
            return candidate
        tried.append(str(candidate))
    raise RuntimeError(
        "packjit: cannot find " + _LIBRARY_NAME + " (tried: " + ", ".join(tried) +
        "). Install packjit (pip install --no-build-isolation .), build it "
        "(README.md), or set PACKJIT_LIBRARY to its path.")


def build_info(path=None):
    """What the op library at ``path`` (default: :func:`library_path`) was
    built with: a dict with ``torch`` (its version), ``packjit``, ``cuda_ops``
    and ``compiler``; empty when the build wrote none."""
    path = Path(path) if path is not None else library_path()
    info = path.parent / _BUILD_INFO
    if not info.is_file():
        return {}
    with open(info, encoding="utf-8") as f:
        return json.load(f)


def _release(version):
    """``2.11.0+cu130`` -> ``2.11``: LibTorch's C++ ABI changes between
    minor releases; the rest (a patch level, Debian's ``1.13.0a0``, the
    wheel's CUDA tag) names the same one."""
    match = re.match(r"\d+\.\d+", str(version))
    return match.group(0) if match else str(version)


def _rebuild_hint(path):
    return (" Rebuild packjit against this torch (pip install --no-build-isolation "
            "--force-reinstall . , or scripts/build.sh), or point PACKJIT_LIBRARY at a "
            "library built for it. Library: " + str(path))


def load_library():
    """Loads the op library once and returns its path."""
    global _loaded_path
    if _loaded_path is not None:
        return _loaded_path
    path = library_path()
    built_for = build_info(path).get("torch")
    if built_for and _release(built_for) != _release(torch.__version__):
        raise RuntimeError(
            "packjit: the op library was built against torch " + built_for +
            ", but this Python has torch " + torch.__version__ + "." + _rebuild_hint(path))
    try:
        torch.ops.load_library(str(path))
    except OSError as error:
        raise RuntimeError(
            "packjit: cannot load the op library (" + str(error) + "); this Python has "
            "torch " + torch.__version__ +
            (", the library was built against torch " + built_for if built_for else "") +
            "." + _rebuild_hint(path)) from error
    missing = [op for op in _REQUIRED_OPS if not _registered(op)]
    if len(missing) == len(_REQUIRED_OPS):
        raise RuntimeError("packjit: " + str(path) + " loaded but registered no packjit "
                           "ops: it is not packjit's op library.")
    if missing:
        raise RuntimeError("packjit: " + str(path) + " registers packjit ops but not " +
                           ", ".join(missing) + ": it is another version's op library, "
                           "not this package's. Point PACKJIT_LIBRARY at the library "
                           "built with this package (or unset it).")
    _loaded_path = path
    return _loaded_path
