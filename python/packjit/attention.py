"""Attention over packed documents, without flash-attn: ``varlen_attention``.

Given the tokens of several documents back to back (``[nnz, heads, dim]``,
as ``unpad_input`` returns them) and ``cu_seqlens``, each token attends only
to tokens of its own document (causally by default). On CUDA this is
torch's ``varlen_attn`` (torch >= 2.10: flash-attention's varlen kernel, with
a fake kernel and a backward, so it traces under ``torch.compile``); elsewhere
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


# Looked up once: a failed import is not cached by Python, and this is on
# every attention call.
_VARLEN_ATTN = _torch_varlen_attn()


def document_ids(cu_seqlens: torch.Tensor, nnz) -> torch.Tensor:
    """The document number of each of the ``nnz`` packed tokens (int64 ``[nnz]``)."""
    positions = torch.arange(nnz, device=cu_seqlens.device, dtype=cu_seqlens.dtype)
    ends = cu_seqlens.narrow(0, 1, cu_seqlens.shape[0] - 1)
    return torch.searchsorted(ends, positions, right=True)


def block_diagonal_mask(cu_seqlens: torch.Tensor, nnz, causal: bool = True) -> torch.Tensor:
    """bool ``[nnz, nnz]``: True where query i may attend to key j (same
    document, and ``j <= i`` when causal)."""
    doc = document_ids(cu_seqlens, nnz)
    allowed = doc[:, None] == doc[None, :]
    if causal:
        pos = torch.arange(nnz, device=cu_seqlens.device)
        allowed = allowed & (pos[:, None] >= pos[None, :])
    return allowed


def varlen_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     cu_seqlens: torch.Tensor, max_seqlen: int, causal: bool = True,
                     scale: Optional[float] = None) -> torch.Tensor:
    """Attention within each packed document: ``q``, ``k``, ``v`` are
    ``[nnz, heads, dim]``, ``cu_seqlens`` int32 ``[D+1]`` (as ``get_unpad_data``
    returns), ``max_seqlen`` the longest document. Returns ``[nnz, heads, dim]``."""
    if q.is_cuda and _VARLEN_ATTN is not None:
        return _VARLEN_ATTN(q, k, v, cu_seqlens, cu_seqlens, max_seqlen, max_seqlen,
                           scale=scale, window_size=(-1, 0) if causal else (-1, -1))
    nnz = q.shape[0]
    allowed = block_diagonal_mask(cu_seqlens, nnz, causal)
    if scale is None:
        scale = q.shape[-1] ** -0.5
    if _compiling():
        # Products and sums, which inductor fuses into reductions: its CPU
        # matmul lowering (torch 2.11) guards on the token count, an unbacked
        # size, and fails.
        scores = (q[:, None] * k[None]).sum(-1).permute(2, 0, 1) * scale
        probs = _masked_softmax(scores, allowed, v.dtype)
        return (probs.permute(1, 2, 0)[..., None] * v[None]).sum(1)
    scores = torch.matmul(q.transpose(0, 1), k.permute(1, 2, 0)) * scale  # [H, nnz, nnz]
    probs = _masked_softmax(scores, allowed, v.dtype)
    return torch.matmul(probs, v.transpose(0, 1)).transpose(0, 1)


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
