"""The ``packjit_varlen`` attention for transformers' ``AttentionInterface``.

transformers calls an attention function as ``fn(module, query, key, value,
attention_mask, dropout=..., scaling=..., **kwargs)`` with ``query``
``[B, heads, S, dim]`` and ``key``/``value`` ``[B, kv_heads, S, dim]``, and
expects ``(output [B, S, heads, dim], weights or None)``. This one finds the
documents, in this order:

1. the collator's flash-attention kwargs (``cu_seq_lens_q``/``_k``,
   ``max_length_q``/``_k``; ``DataCollatorWithFlattening`` or
   :class:`PackedCollator` with ``return_flash_attn_kwargs=True``): no host
   sync when ``max_length_q`` is a Python int;
2. a 2-D ``attention_mask`` (indexed or binary): ``packjit.get_unpad_data``,
   then the tokens are gathered, attended and scattered back (zeros at
   padding). transformers drops 2-D masks before they reach an attention
   that its mask interface does not know, so this needs
   ``packjit.integrations.automodel.configure_packing("packjit_varlen")``,
   whose passthrough hands the mask on unchanged;
3. ``position_ids`` (restarting at each document, as the collator makes them):
   ``packjit.cu_seqlens_from_position_ids``;
4. none of them: each row is one document.

then runs ``packjit.attention.varlen_attention`` (CUDA: flash-attn's varlen
kernel when installed, else torch's ``varlen_attn``; CPU: one block-diagonal
SDPA), causal unless the module or the call says otherwise, with the
module's or the call's ``sliding_window``, grouped-query heads, ``scaling``
and ``dropout``.
"""

import torch

from .. import _ops
from .._padding import pad_input, unpad_inputs
from ..attention import varlen_attention
from . import _probe

DEFAULT_NAME = "packjit_varlen"
_registered = set()  # names registered by register_attention


def packjit_varlen_attention(module, query, key, value, attention_mask, dropout=0.0,
                             scaling=None, sliding_window=None, is_causal=None, **kwargs):
    """transformers' attention-function contract over packjit's varlen path
    (module docstring)."""
    batch, _, seqlen, _ = query.shape
    causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    if sliding_window is None:
        sliding_window = getattr(module, "sliding_window", None)
    # [B, H, S, D] -> [B, S, H, D], as the varlen kernels take them.
    q, k, v = (t.transpose(1, 2) for t in (query, key, value))

    def attend(qu, ku, vu, cu_seqlens, max_seqlen):
        return varlen_attention(qu, ku, vu, cu_seqlens, max_seqlen, causal=causal, scale=scaling,
                                sliding_window=sliding_window, dropout_p=dropout)

    cu_seqlens = kwargs.get("cu_seq_lens_q")
    if cu_seqlens is not None:
        _require_self_attention(kwargs, cu_seqlens)
        max_seqlen = kwargs.get("max_length_q")
        if max_seqlen is None:
            raise ValueError("packjit_varlen: cu_seq_lens_q was given without max_length_q")
        cu_seqlens = cu_seqlens.to(device=q.device, dtype=torch.int32, non_blocking=True)
        _probe.report("packjit_varlen:cu_seq_lens", cu_seqlens)
        out = attend(*_flat(q, k, v), cu_seqlens, _as_int(max_seqlen))
        return out.view(batch, seqlen, *out.shape[1:]), None

    if attention_mask is not None:
        if attention_mask.dim() != 2:
            raise ValueError(
                f"packjit_varlen takes a 2-D [batch, seq] attention mask (indexed or binary), got "
                f"a {attention_mask.dim()}-D one: the model's create_causal_mask built a "
                "materialized mask; configure_packing('packjit_varlen') installs the passthrough "
                "that hands the 2-D mask on")
        mask = attention_mask[:, -seqlen:] if attention_mask.shape[1] != seqlen else attention_mask
        indices, cu_seqlens, max_seqlen = _ops.get_unpad_data(mask)
        _probe.report("packjit_varlen:attention_mask", cu_seqlens)
        qu, ku, vu = unpad_inputs([q, k, v], indices)
        return pad_input(attend(qu, ku, vu, cu_seqlens, max_seqlen), indices, batch, seqlen), None

    position_ids = kwargs.get("position_ids")
    if position_ids is not None:
        cu_seqlens, max_seqlen = _ops.cu_seqlens_from_position_ids(
            position_ids.expand(batch, -1))
        _probe.report("packjit_varlen:position_ids", cu_seqlens)
    else:
        cu_seqlens = torch.arange(0, (batch + 1) * seqlen, seqlen, dtype=torch.int32,
                                  device=q.device)
        max_seqlen = seqlen
    out = attend(*_flat(q, k, v), cu_seqlens.to(q.device), max_seqlen)
    return out.view(batch, seqlen, *out.shape[1:]), None


def _flat(*tensors):
    return [t.reshape(-1, *t.shape[2:]) for t in tensors]


def _as_int(value):
    # A 0-d tensor (transformers' own prepare_fa_kwargs_from_position_ids
    # returns one) costs a sync; the collators give a Python int.
    return int(value.item()) if isinstance(value, torch.Tensor) else int(value)


def _require_self_attention(kwargs, cu_seqlens_q):
    cu_seqlens_k = kwargs.get("cu_seq_lens_k")
    if cu_seqlens_k is not None and cu_seqlens_k is not cu_seqlens_q and (
            cu_seqlens_k.shape != cu_seqlens_q.shape):
        raise ValueError("packjit_varlen: cu_seq_lens_k differs from cu_seq_lens_q; packed "
                         "self-attention uses one set of boundaries")


def register_attention(name: str = DEFAULT_NAME) -> str:
    """Registers :func:`packjit_varlen_attention` under ``name`` in
    transformers' ``AttentionInterface``, so that
    ``from_pretrained(..., attn_implementation=name)`` (or
    ``model.set_attn_implementation(name)``) uses it. Returns ``name``.

    transformers' mask interface does not know the name, so
    ``create_causal_mask`` gives this attention no mask: packed batches come
    with the collator's kwargs, or with an indexed mask through
    ``packjit.integrations.automodel.configure_packing(name)``.
    """
    from transformers import AttentionInterface

    AttentionInterface.register(name, packjit_varlen_attention)
    _registered.add(name)
    return name


def is_registered(name) -> bool:
    """Whether :func:`register_attention` registered ``name``."""
    return name in _registered
