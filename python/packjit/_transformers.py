"""Routes transformers' flash-attention unpadding through packjit.

NeMo Automodel and LlamaFactory replace
``transformers.modeling_flash_attention_utils._get_unpad_data`` with a Python
function that loops over document ids; :func:`patch_transformers` replaces it
with :func:`packjit.get_unpad_data`, which handles binary masks exactly as
transformers does (each row's tokens form one run of 1s) and indexed packed
masks as those trainers do, in one pass.
"""

import importlib
import sys

from ._ops import get_unpad_data

_MODULE = "transformers.modeling_flash_attention_utils"
_ATTRIBUTE = "_get_unpad_data"
_originals = {}  # module name -> the function that was there before


def _bound_here(module):
    """The module's own ``_get_unpad_data``, read from its namespace: some
    transformers modules are lazy aliases whose ``__getattr__`` imports other
    modules (which may need optional packages) on any attribute lookup."""
    namespace = getattr(module, "__dict__", None)
    return namespace.get(_ATTRIBUTE) if isinstance(namespace, dict) else None


def _packjit_get_unpad_data(attention_mask, strict=True):
    return get_unpad_data(attention_mask, strict)


def patch_transformers(strict=True):
    """Replaces transformers' ``_get_unpad_data`` with packjit's.

    Also rebinds it in already imported ``transformers`` modules that did
    ``from ... import _get_unpad_data``. Returns the number of modules
    patched. Idempotent; :func:`unpatch_transformers` restores the originals.
    """
    target = importlib.import_module(_MODULE)
    original = _originals.get(_MODULE, getattr(target, _ATTRIBUTE))

    def patched(attention_mask):
        return _packjit_get_unpad_data(attention_mask, strict)

    patched.__packjit__ = True
    patched.__doc__ = get_unpad_data.__doc__
    count = 0
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "transformers" or name.startswith("transformers.")):
            continue
        current = _bound_here(module)
        if current is original or getattr(current, "__packjit__", False):
            _originals.setdefault(name, original)
            setattr(module, _ATTRIBUTE, patched)
            count += 1
    return count


def unpatch_transformers():
    """Restores every ``_get_unpad_data`` that :func:`patch_transformers` replaced.

    Also in ``transformers`` modules that imported the patched function by
    name after :func:`patch_transformers` ran.
    """
    original = _originals.get(_MODULE)
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "transformers" or name.startswith("transformers.")):
            continue
        if getattr(_bound_here(module), "__packjit__", False):
            setattr(module, _ATTRIBUTE, _originals.get(name, original))
    _originals.clear()
