"""NeMo Automodel's packed-sequence module contract, on packjit.

NeMo Automodel (``nemo_automodel/components/models/common/packing.py``)
feeds ``[B, S]`` rows that pack several documents with an *indexed*
attention mask (0 padding, ``v`` document ``v`` of its row) and, for the
flash-attention backends, patches transformers so that the mask reaches the
attention. This module has the same functions, names and signatures, with
packjit's ops inside, and closes the holes the issue describes:

- ``configure_packing`` also accepts ``"packjit_varlen"`` (flash-attn not
  needed), replaces ``create_causal_mask`` in *every* loaded
  ``transformers.*`` module that bound it (not a fixed list of models) and
  in modules imported later (an import hook), and keeps indexed masks out of
  ``_preprocess_mask_arguments``' bool cast for the other mask builders
  (sliding-window, chunked, bidirectional);
- it fails closed: a transformers without an entry point it needs is a
  RuntimeError naming the version, never a silent no-op.

Side-by-side table: docs/integrations.md.
"""

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Mapping

import torch

from .. import _ops
from . import _hf_attention, _hf_patch

_FLASH_ATTN_IMPLEMENTATIONS = ("flash_attention_2", "flash_attention_3", "flash_attention_4")
_MASKING_MODULE = "transformers.masking_utils"

_state = {"create_causal_mask": None, "preprocess": None, "finder": None,
          "implementations": set()}


def get_seqlens_in_batch(attention_mask: torch.Tensor) -> torch.Tensor:
    """The document lengths of an indexed mask, row after row, in order
    (``packjit.get_seqlens_in_batch``, strict)."""
    return _ops.get_seqlens_in_batch(attention_mask)


def get_unpad_data(attention_mask: torch.Tensor):
    """``(indices, cu_seqlens, max_seqlen_in_batch)`` of an indexed (or
    binary) mask: a drop-in for transformers' ``_get_unpad_data``
    (``packjit.get_unpad_data``, strict: ids must not decrease within a row)."""
    return _ops.get_unpad_data(attention_mask)


def is_indexed_packed_mask(attention_mask) -> bool:
    """True iff ``attention_mask`` is a 2-D, non-bool mask with a value > 1."""
    return _ops.is_indexed_packed_mask(attention_mask)


def get_attn_implementation(cfg_model):
    """The attention backend of a model config: ``attn_implementation`` of a
    mapping (default ``"sdpa"``), ``backend.attn`` of a custom model's
    config object, ``"sdpa"`` for None."""
    if isinstance(cfg_model, Mapping):
        return cfg_model.get("attn_implementation", "sdpa")
    if cfg_model is not None:
        return cfg_model.backend.attn
    return "sdpa"


def _packs_2d_masks(attn_implementation) -> bool:
    """Attentions that take a 2-D mask and find the documents themselves."""
    return attn_implementation in _FLASH_ATTN_IMPLEMENTATIONS or (
        attn_implementation in _state["implementations"])


def _passthrough_create_causal_mask(config=None, input_embeds=None, inputs_embeds=None,
                                    attention_mask=None, cache_position=None,
                                    past_key_values=None, position_ids=None, **kwargs):
    """``create_causal_mask`` that hands packed masks on unchanged.

    For the flash-attention backends and packjit's attention the 2-D mask
    (indexed or binary) goes to the attention as is; for the others a 4-D
    or indexed mask passes through and a normal 2-D mask goes to
    transformers' own ``create_causal_mask``. ``cache_position`` is accepted
    and dropped (transformers 5 has none).
    """
    if config is not None and _packs_2d_masks(getattr(config, "_attn_implementation", None)):
        return attention_mask
    if attention_mask is not None:
        if attention_mask.dim() == 4 or is_indexed_packed_mask(attention_mask):
            return attention_mask
    embeds = inputs_embeds if inputs_embeds is not None else input_embeds
    create_causal_mask = _state["create_causal_mask"] or _transformers_create_causal_mask()
    return create_causal_mask(config=config, inputs_embeds=embeds, attention_mask=attention_mask,
                              past_key_values=past_key_values, position_ids=position_ids,
                              **kwargs)


_passthrough_create_causal_mask.__packjit__ = True


def _required(masking_utils, name, why):
    """``masking_utils.name``, or an error naming the transformers version:
    configure_packing fails closed."""
    function = getattr(masking_utils, name, None)
    if function is None:
        raise RuntimeError(
            f"packjit configure_packing: transformers {_hf_patch.transformers_version()} has no "
            f"{_MASKING_MODULE}.{name}; refusing to continue, because {why}")
    return function


def _transformers_create_causal_mask():
    return _required(importlib.import_module(_MASKING_MODULE), "create_causal_mask",
                     "packed documents could then attend to each other")


def _install_passthrough(module) -> bool:
    namespace = getattr(module, "__dict__", None)
    if not isinstance(namespace, dict) or module.__name__ == _MASKING_MODULE:
        return False
    if namespace.get("create_causal_mask") is not _state["create_causal_mask"]:
        return False
    module.create_causal_mask = _passthrough_create_causal_mask
    return True


class _PassthroughLoader(importlib.abc.Loader):
    """Runs the real loader, then installs the passthrough in the module."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _install_passthrough(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _PassthroughFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of every ``transformers.*`` module imported after
    :func:`configure_packing`, so that model modules imported later (e.g.
    through transformers' lazy ``AutoModel`` mapping) get the passthrough."""

    def find_spec(self, name, path, target=None):
        if not name.startswith("transformers.") or name == _MASKING_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PassthroughLoader(spec.loader)
        return spec


def _install_preprocess_shim(masking_utils) -> None:
    """Keeps 2-D masks out of ``_preprocess_mask_arguments``' bool cast
    (transformers 5 casts every 2-D mask to bool: an indexed mask becomes one
    document per row) for packjit's attention (every 2-D mask) and the
    flash-attention backends (indexed masks), by taking its early exit with
    the mask unchanged. The exit's shape is read from the installed
    transformers first, with a 4-D probe, so a changed private contract is an
    error, not a silent merge."""
    original = _required(masking_utils, "_preprocess_mask_arguments",
                         "its replacement could not keep indexed masks intact")
    if getattr(original, "__packjit__", False):
        return
    probe = torch.zeros((1, 1, 1, 1), dtype=torch.bool)
    try:
        template = original(config=None, inputs_embeds=torch.zeros((1, 1, 1)),
                            attention_mask=probe, past_key_values=None, position_ids=None,
                            layer_idx=None)
    except (AttributeError, RuntimeError, TypeError, ValueError) as error:
        raise RuntimeError(
            f"packjit configure_packing: transformers {_hf_patch.transformers_version()}'s "
            f"_preprocess_mask_arguments has an unknown signature ({error}); refusing to "
            "continue, because indexed masks could be cast to bool") from error
    if not (isinstance(template, tuple) and len(template) >= 2 and template[0] is True
            and template[1] is probe):
        raise RuntimeError(
            f"packjit configure_packing: transformers {_hf_patch.transformers_version()}'s "
            "_preprocess_mask_arguments returned an unknown early exit; refusing to continue, "
            "because indexed masks could be cast to bool")

    def _preprocess_mask_arguments(*args, **kwargs):
        config = kwargs.get("config", args[0] if args else None)
        mask = kwargs.get("attention_mask", args[2] if len(args) > 2 else None)
        implementation = getattr(config, "_attn_implementation", None)
        if isinstance(mask, torch.Tensor) and mask.dim() == 2 and (
                implementation in _state["implementations"] or (
                    implementation in _FLASH_ATTN_IMPLEMENTATIONS
                    and is_indexed_packed_mask(mask))):
            return (True, mask, *template[2:])
        return original(*args, **kwargs)

    _preprocess_mask_arguments.__packjit__ = True
    _state["preprocess"] = original
    masking_utils._preprocess_mask_arguments = _preprocess_mask_arguments


def configure_packing(attn_implementation: str = "sdpa") -> None:
    """Configures transformers for packed rows with indexed masks.

    For ``"flash_attention_2"`` / ``"_3"`` / ``"_4"`` and packjit's attention
    (``"packjit_varlen"``, registered here; or any name given to
    ``register_attention``): routes ``_get_unpad_data`` (and
    ``prepare_fa_kwargs_from_position_ids``) to packjit
    (``packjit.integrations.transformers.patch``), replaces
    ``create_causal_mask`` with :func:`_passthrough_create_causal_mask` in
    every loaded ``transformers.*`` module that bound it and in those imported
    later, and keeps indexed masks intact through the other mask builders.
    Other implementations (``"sdpa"``, ``"eager"``, ...): nothing, as in
    NeMo Automodel. Idempotent; :func:`unconfigure_packing` undoes it.
    Raises RuntimeError, naming the transformers version, when an entry
    point it needs is missing.
    """
    if attn_implementation == _hf_attention.DEFAULT_NAME:
        _hf_attention.register_attention(attn_implementation)
    if _hf_attention.is_registered(attn_implementation):
        _state["implementations"].add(attn_implementation)
    elif attn_implementation not in _FLASH_ATTN_IMPLEMENTATIONS:
        return
    masking_utils = importlib.import_module(_MASKING_MODULE)
    fa_utils = importlib.import_module(_hf_patch.MODULE)
    if "_get_unpad_data" not in vars(fa_utils):
        raise RuntimeError(
            f"packjit configure_packing: transformers {_hf_patch.transformers_version()} has no "
            f"{_hf_patch.MODULE}._get_unpad_data; refusing to continue, because packed "
            "documents could then attend to each other")
    if _state["create_causal_mask"] is None:
        _state["create_causal_mask"] = _transformers_create_causal_mask()
    _install_preprocess_shim(masking_utils)
    _hf_patch.patch()
    for name, module in list(sys.modules.items()):
        if module is not None and name.startswith("transformers."):
            _install_passthrough(module)
    if _state["finder"] is None:
        _state["finder"] = _PassthroughFinder()
        sys.meta_path.insert(0, _state["finder"])


def unconfigure_packing() -> None:
    """Undoes :func:`configure_packing`: transformers' functions back in every
    module, the import hook removed, ``patch`` undone."""
    if _state["finder"] is not None:
        sys.meta_path.remove(_state["finder"])
        _state["finder"] = None
    original = _state["create_causal_mask"]
    if original is not None:
        for module in list(sys.modules.values()):
            namespace = getattr(module, "__dict__", None)
            if isinstance(namespace, dict) and (
                    namespace.get("create_causal_mask") is _passthrough_create_causal_mask):
                module.create_causal_mask = original
    if _state["preprocess"] is not None:
        sys.modules[_MASKING_MODULE]._preprocess_mask_arguments = _state["preprocess"]
        _state["preprocess"] = None
    _state["implementations"].clear()
    _hf_patch.unpatch()


__all__ = [
    "configure_packing",
    "get_attn_implementation",
    "get_seqlens_in_batch",
    "get_unpad_data",
    "is_indexed_packed_mask",
    "unconfigure_packing",
]
