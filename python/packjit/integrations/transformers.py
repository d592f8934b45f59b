"""packjit for Hugging Face transformers (5.x; 4.54+ for the patch).

- :class:`PackedCollator`: a drop-in for ``DataCollatorWithFlattening``
  whose metadata comes from packjit's CPU op;
- :func:`patch` / :func:`unpatch`: every unpadding entry point of the
  installed transformers (``_get_unpad_data``,
  ``prepare_fa_kwargs_from_position_ids``) routed through packjit;
- :func:`register_attention`: ``attn_implementation="packjit_varlen"``, varlen
  attention without flash-attn (torch's ``varlen_attn`` on CUDA, flash-attn's
  when installed, block-diagonal SDPA on the CPU);
- :func:`check`: proof, through ``model.forward``, that packjit's boundaries
  reach the attention.

Guide: docs/integrations.md.
"""

from ._check import PackingCheckError, check, tiny_llama
from ._collator import PackedCollator
from ._hf_attention import packjit_varlen_attention, register_attention
from ._hf_patch import is_patched, patch, unpatch

__all__ = [
    "PackedCollator",
    "PackingCheckError",
    "check",
    "is_patched",
    "packjit_varlen_attention",
    "patch",
    "register_attention",
    "tiny_llama",
    "unpatch",
]
