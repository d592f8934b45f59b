"""Finds and loads libpackjit_torch.so, which registers torch.ops.packjit."""

import os
from pathlib import Path

import torch

_LIBRARY_NAME = "libpackjit_torch.so"
_loaded_path = None


def _candidates():
    env = os.environ.get("PACKJIT_LIBRARY")
    if env:
        yield Path(env)
        return  # an explicit choice is never second-guessed
    here = Path(__file__).resolve().parent
    yield here / "lib" / _LIBRARY_NAME
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
        "). Build it (see README.md) or set PACKJIT_LIBRARY to its path.")


def load_library():
    """Loads the op library once and returns its path."""
    global _loaded_path
    if _loaded_path is None:
        path = library_path()
        torch.ops.load_library(str(path))
        _loaded_path = path
    return _loaded_path
