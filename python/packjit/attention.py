"""Attention over packed documents, without flash-attn: ``varlen_attention``.

Given the tokens of several documents back to back (``[nnz, heads, dim]``,
as ``unpad_input`` returns them) and ``cu_seqlens``, each token attends only
to tokens of its own document (causally by default, optionally within a
sliding window; fewer key/value heads than query heads is grouped-query
attention). On CUDA this is flash-attn's ``flash_attn_varlen_func`` when the
``flash-attn`` package is installed, else torch's ``varlen_attn`` (torch >=
2.10: flash-attention's varlen kernel, with a fake kernel and a backward, so
it traces under ``torch.compile``); elsewhere
one masked attention over all tokens with a block-diagonal mask built from
``cu_seqlens`` (``O(nnz^2)`` memory: meant for tests, CPU training and short
batches). Both trace with
``torch.compile(fullgraph=True)``: no Python loop over documents.
"""

from typing import Optional

import torch

from ._ops import get_unpad_data
from ._padding import pad_input, unpad_inputs


def _torch_varlen_attn():
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None
    return varlen_attn


def _flash_attn_varlen():
    try:
        from flash_attn import flash_attn_varlen_func
    except ImportError:
        return None
    return flash_attn_varlen_func


# Looked up once: a failed import is not cached by Python, and this is on
# every attention call.
_VARLEN_ATTN = _torch_varlen_attn()
_FLASH_ATTN_VARLEN = _flash_attn_varlen()


def cuda_backend() -> Optional[str]:
    """The kernel :func:`varlen_attention` runs on CUDA: ``"flash_attn"``,
    ``"torch_varlen_attn"``, or None (neither is available: it then uses the
    block-diagonal path there too)."""
    if _FLASH_ATTN_VARLEN is not None:
        return "flash_attn"
    return "torch_varlen_attn" if _VARLEN_ATTN is not None else None


def document_ids(cu_seqlens: torch.Tensor, nnz) -> torch.Tensor:
    """The document number of each of the ``nnz`` packed tokens (int64 ``[nnz]``)."""
    positions = torch.arange(nnz, device=cu_seqlens.device, dtype=cu_seqlens.dtype)
    ends = cu_seqlens.narrow(0, 1, cu_seqlens.shape[0] - 1)
    return torch.searchsorted(ends, positions, right=True)


def block_diagonal_mask(cu_seqlens: torch.Tensor, nnz, causal: bool = True,
                        sliding_window: Optional[int] = None) -> torch.Tensor:
    """bool ``[nnz, nnz]``: True where query i may attend to key j (same
    document, ``j <= i`` when causal, and ``|i - j| < sliding_window`` when
    one is given)."""
    doc = document_ids(cu_seqlens, nnz)
    allowed = doc[:, None] == doc[None, :]
    if causal or sliding_window is not None:
        pos = torch.arange(nnz, device=cu_seqlens.device)
        distance = pos[:, None] - pos[None, :]
        if causal:
            allowed = allowed & (distance >= 0)
        if sliding_window is not None:
            allowed = allowed & (distance.abs() < sliding_window)
    return allowed


def varlen_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     cu_seqlens: torch.Tensor, max_seqlen: int, causal: bool = True,
                     scale: Optional[float] = None, sliding_window: Optional[int] = None,
                     dropout_p: float = 0.0) -> torch.Tensor:
    """Attention within each packed document: ``q`` is ``[nnz, heads, dim]``,
    ``k`` and ``v`` ``[nnz, kv_heads, dim]`` (``heads`` a multiple of
    ``kv_heads``: query head ``h`` reads key/value head ``h // (heads //
    kv_heads)``, as transformers' ``repeat_kv``), ``cu_seqlens`` int32
    ``[D+1]`` (as ``get_unpad_data`` returns), ``max_seqlen`` the longest
    document. ``sliding_window`` (transformers' meaning): a query sees at most
    that many keys, itself included. ``dropout_p`` applies to the attention
    probabilities; torch's ``varlen_attn`` has none, so it raises there.
    Returns ``[nnz, heads, dim]``."""
    window = _window_size(causal, sliding_window)
    if q.is_cuda and _FLASH_ATTN_VARLEN is not None:
        return _FLASH_ATTN_VARLEN(q, k, v, cu_seqlens, cu_seqlens, max_seqlen, max_seqlen,
                                  dropout_p=dropout_p, softmax_scale=scale, causal=causal,
                                  window_size=window)
    k, v = _repeat_kv(q, k), _repeat_kv(q, v)
    if q.is_cuda and _VARLEN_ATTN is not None:
        if dropout_p > 0.0:
            raise NotImplementedError(
                f"packjit.attention.varlen_attention: dropout_p={dropout_p}, but torch's "
                "varlen_attn has no dropout; install flash-attn or set the model's "
                "attention dropout to 0")
        return _VARLEN_ATTN(q, k, v, cu_seqlens, cu_seqlens, max_seqlen, max_seqlen,
                            scale=scale, window_size=window)
    nnz = q.shape[0]
    allowed = block_diagonal_mask(cu_seqlens, nnz, causal, sliding_window)
    if scale is None:
        scale = q.shape[-1] ** -0.5
    if _compiling():
        # Products and sums, which inductor fuses into reductions: its CPU
        # matmul lowering (torch 2.11) guards on the token count, an unbacked
        # size, and fails.
        scores = (q[:, None] * k[None]).sum(-1).permute(2, 0, 1) * scale
        probs = _dropout(_masked_softmax(scores, allowed, v.dtype), dropout_p)
        return (probs.permute(1, 2, 0)[..., None] * v[None]).sum(1)
    scores = torch.matmul(q.transpose(0, 1), k.permute(1, 2, 0)) * scale  # [H, nnz, nnz]
    probs = _dropout(_masked_softmax(scores, allowed, v.dtype), dropout_p)
    return torch.matmul(probs, v.transpose(0, 1)).transpose(0, 1)


def _window_size(causal: bool, sliding_window: Optional[int]):
    """flash-attention's inclusive ``(left, right)`` window; -1 is unbounded."""
    if sliding_window is None:
        return (-1, 0) if causal else (-1, -1)
    if sliding_window < 1:
        raise ValueError(f"packjit.attention: sliding_window should be >= 1, got {sliding_window}")
    return (sliding_window - 1, 0 if causal else sliding_window - 1)


def _repeat_kv(q: torch.Tensor, kv: torch.Tensor) -> torch.Tensor:
    heads, kv_heads = q.shape[1], kv.shape[1]
    if heads == kv_heads:
        return kv
    if heads % kv_heads:
        raise ValueError(f"packjit.attention: {heads} query heads are not a multiple of "
                         f"{kv_heads} key/value heads")
    return kv.repeat_interleave(heads // kv_heads, dim=1)


def _dropout(probs, dropout_p):
    return torch.nn.functional.dropout(probs, dropout_p) if dropout_p > 0.0 else probs


def _masked_softmax(scores, allowed, dtype):
    scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores.float(), dim=-1).to(dtype)


def _compiling():
    compiler = getattr(torch, "compiler", None)
    return compiler is not None and compiler.is_compiling()


def packed_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     attention_mask: torch.Tensor, causal: bool = True,
                     strict: bool = True) -> torch.Tensor:
    """Attention of a padded batch ``[B, S, heads, dim]`` whose rows pack
    several documents, given its indexed ``attention_mask`` ``[B, S]``: each
    token attends to tokens of its own document only. ``get_unpad_data``, then
    ``unpad_inputs`` of q, k, v, :func:`varlen_attention`, ``pad_input``
    (zeros at padding). Differentiable; traces with
    ``torch.compile(fullgraph=True)``."""
    batch, seqlen = attention_mask.shape
    indices, cu_seqlens, max_seqlen = get_unpad_data(attention_mask, strict)
    qu, ku, vu = unpad_inputs([q, k, v], indices)
    out = varlen_attention(qu, ku, vu, cu_seqlens, max_seqlen, causal)
    return pad_input(out, indices, batch, seqlen)
