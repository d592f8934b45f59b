"""Routes transformers' flash-attention unpadding entry points through packjit.

transformers computes varlen boundaries in two functions of
``transformers.modeling_flash_attention_utils``:

- ``_get_unpad_data(attention_mask) -> (indices, cu_seqlens, max_seqlen: int)``,
  from a padding mask (NeMo Automodel and LlamaFactory replace it with a
  Python loop over document ids, for indexed masks);
- ``prepare_fa_kwargs_from_position_ids(position_ids) -> ((cu_q, cu_k),
  (max_q, max_k))`` (transformers >= 4.54), from packed position ids, with
  ``cu_k is cu_q``, ``max_k is max_q`` and the maxima 0-d int32 tensors on
  the ids' device.

:func:`patch` replaces each one the installed transformers has with
packjit's op (same return types and identities), in that module and in every
``transformers.*`` module that imported it by name, and raises, naming the
transformers version, when it finds neither. Where packjit's result differs
from transformers': indexed masks give one document per id (transformers:
one per row); position ids also start a document at each row start and, with
``strict=True``, must rise by exactly 1 inside a document.
"""

import importlib
import sys

import torch

from .. import _ops
from . import _probe

MODULE = "transformers.modeling_flash_attention_utils"
ENTRY_POINTS = ("_get_unpad_data", "prepare_fa_kwargs_from_position_ids")
_originals = {}  # (module name, attribute) -> what was bound there before


def _bound_here(module, name):
    """The module's own binding of ``name``, read from its namespace: some
    transformers modules are lazy aliases whose ``__getattr__`` imports other
    modules (which may need optional packages) on any attribute lookup."""
    namespace = getattr(module, "__dict__", None)
    return namespace.get(name) if isinstance(namespace, dict) else None


def _transformers_modules():
    for name, module in list(sys.modules.items()):
        if module is not None and (name == "transformers" or name.startswith("transformers.")):
            yield name, module


def transformers_version() -> str:
    root = sys.modules.get("transformers")
    return getattr(root, "__version__", "unknown") if root is not None else "not imported"


def _get_unpad_data_replacement(strict):
    def _get_unpad_data(attention_mask):
        indices, cu_seqlens, max_seqlen = _ops.get_unpad_data(attention_mask, strict)
        _probe.report("_get_unpad_data", cu_seqlens)
        return indices, cu_seqlens, max_seqlen

    _get_unpad_data.__doc__ = _ops.get_unpad_data.__doc__
    return _get_unpad_data


def _prepare_fa_kwargs_replacement(strict):
    def prepare_fa_kwargs_from_position_ids(position_ids):
        """transformers' contract, from ``packjit.cu_seqlens_from_position_ids``:
        ``((cu_seqlens, cu_seqlens), (max_length, max_length))`` with int32
        ``cu_seqlens`` and ``max_length`` a 0-d int32 tensor, both on the ids'
        device."""
        cu_seqlens, max_seqlen = _ops.cu_seqlens_from_position_ids(position_ids, strict)
        _probe.report("prepare_fa_kwargs_from_position_ids", cu_seqlens)
        max_length = torch.tensor(max_seqlen, dtype=torch.int32, device=position_ids.device)
        return (cu_seqlens, cu_seqlens), (max_length, max_length)

    return prepare_fa_kwargs_from_position_ids


_REPLACEMENTS = {
    "_get_unpad_data": _get_unpad_data_replacement,
    "prepare_fa_kwargs_from_position_ids": _prepare_fa_kwargs_replacement,
}


def patch(strict: bool = True) -> int:
    """Routes every unpadding entry point the installed transformers has
    through packjit (module docstring). ``strict`` is the ops' strict mode.

    Idempotent (a second call only changes ``strict``); :func:`unpatch`
    restores the originals. Returns the number of module bindings replaced.
    Raises ImportError without transformers, and RuntimeError naming the
    version when none of the entry points exists.
    """
    target = importlib.import_module(MODULE)
    present = [name for name in ENTRY_POINTS if _bound_here(target, name) is not None]
    if not present:
        raise RuntimeError(
            f"packjit.integrations.transformers.patch: transformers {transformers_version()} has "
            f"none of {', '.join(ENTRY_POINTS)} in {MODULE}; packjit cannot route its unpadding, "
            "and packed documents would attend to each other. Use the packjit_varlen attention "
            "(register_attention) or a transformers version that has them.")
    count = 0
    for name in present:
        original = _originals.get((MODULE, name), _bound_here(target, name))
        replacement = _REPLACEMENTS[name](strict)
        replacement.__packjit__ = True
        for module_name, module in _transformers_modules():
            current = _bound_here(module, name)
            if current is original or getattr(current, "__packjit__", False):
                _originals.setdefault((module_name, name), original)
                setattr(module, name, replacement)
                count += 1
    return count


def unpatch() -> None:
    """Restores every entry point :func:`patch` replaced, also in
    ``transformers`` modules that imported a replacement by name after
    :func:`patch` ran."""
    for name in ENTRY_POINTS:
        original = _originals.get((MODULE, name))
        for module_name, module in _transformers_modules():
            if getattr(_bound_here(module, name), "__packjit__", False):
                setattr(module, name, _originals.get((module_name, name), original))
    _originals.clear()


def is_patched() -> bool:
    """Whether transformers' entry points currently route through packjit."""
    module = sys.modules.get(MODULE)
    return module is not None and any(
        getattr(_bound_here(module, name), "__packjit__", False) for name in ENTRY_POINTS)
