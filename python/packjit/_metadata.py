"""Packing metadata for every consumer of a packed batch, from one pass
(shared/DESIGN.md "Packing metadata"; docs/ops.md ``packing_metadata``).

flash-attention's varlen path needs ``cu_seqlens`` and ``max_seqlen``; Mamba
and linear attention need ``seq_idx``; RoPE needs positions that restart per
document; TransformerEngine's THD format with context parallelism needs
``cu_seqlens_padded``. :func:`packing_metadata` computes all of them from an
indexed (or binary) attention mask or from position ids, in one pass (one
host sync on CUDA), so that they agree by construction.
"""

import dataclasses
from typing import Optional

import torch

from ._library import load_library
from ._ops import _reject_meta

load_library()
_ops = torch.ops.packjit


@dataclasses.dataclass(frozen=True)
class PackingMetadata:
    """One packed batch of ``D`` documents of lengths ``L_d`` and ``nnz`` tokens.

    Every tensor is on the input's device and owns exactly its bytes.
    """

    indices: torch.Tensor  #: int64 ``[nnz]``: flat positions ``b*S+s`` of the kept tokens
    cu_seqlens: torch.Tensor  #: int32 ``[D+1]``: 0, running sums of ``L_d``
    max_seqlen: int  #: ``max L_d``; 0 when ``D == 0``
    seqlens: torch.Tensor  #: int32 ``[D]``: ``L_d``
    seq_idx: torch.Tensor  #: int32 ``[nnz]``: the document ``d`` of each kept token
    position_ids: torch.Tensor  #: int64 ``[nnz]``: ``0..L_d-1`` within each document
    cu_seqlens_padded: torch.Tensor  #: int32 ``[D+1]``: running sums of ``L_d`` rounded up to ``pad_to``


@dataclasses.dataclass(frozen=True)
class PackingMetadataPadded:
    """:func:`packing_metadata_padded`'s fixed-shape fields (``N`` tokens in
    the input, ``M = max_documents``); all on the input's device."""

    indices: torch.Tensor  #: int64 ``[N]``: the ``nnz`` kept positions, then -1
    cu_seqlens: torch.Tensor  #: int32 ``[M+1]``: the first ``min(D, M)+1`` boundaries, then the last repeated
    seqlens: torch.Tensor  #: int32 ``[M]``: ``L_d``, then 0
    seq_idx: torch.Tensor  #: int32 ``[N]``: ``d`` for document ``d < M``, then ``M``
    position_ids: torch.Tensor  #: int64 ``[N]``: ``k - cu_seqlens[seq_idx[k]]``
    cu_seqlens_padded: torch.Tensor  #: int32 ``[M+1]``: as ``cu_seqlens``, lengths rounded up to ``pad_to``
    summary: torch.Tensor  #: int64 ``[5]``: nnz, D, max_seqlen, overflow (D > M), violation


def _check_inputs(op, attention_mask, position_ids, data_dependent=True):
    for name, value in (("attention_mask", attention_mask), ("position_ids", position_ids)):
        if value is not None:
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"packjit.{op}: {name} should be a tensor or None, got "
                                f"{type(value).__name__}")
            _reject_meta(op, name, value, data_dependent)
    if attention_mask is None and position_ids is None:
        raise ValueError(f"packjit.{op}: pass an attention_mask, position_ids, or both "
                         "(the documents then come from the mask and the position ids "
                         "are checked against it)")


def packing_metadata(attention_mask: Optional[torch.Tensor] = None,
                     position_ids: Optional[torch.Tensor] = None, *,
                     pad_to: int = 1, strict: bool = True) -> PackingMetadata:
    """Every consumer's packing metadata from one pass; a :class:`PackingMetadata`.

    - ``attention_mask`` ``[B, S]`` (indexed: 0 padding, ``v > 0`` document
      ``v`` of its row; or bool): the documents of :func:`packjit.get_unpad_data`.
    - ``position_ids`` ``[N]``, ``[B, S]``, or ``[4, B, S]`` as transformers
      packs multimodal positions (row 0, the text positions, defines the
      documents; ``[3, B, S]`` is refused: not a packed layout): the
      documents of :func:`packjit.cu_seqlens_from_position_ids`, every token
      kept (``indices = arange(nnz)``).
    - Both: the documents come from the mask; with ``strict`` the position
      ids must restart (equal their smallest kept value) exactly where a
      mask document starts, else an error names the first place.

    ``strict`` also applies each input's own checks and refuses a document
    that crosses the end of a row (docs/ops.md). ``pad_to >= 1`` rounds each
    length up in ``cu_seqlens_padded`` (``2 * cp`` for TransformerEngine's
    THD format with context parallelism). On CUDA it waits once for the
    sizes, so it cannot be captured in a CUDA graph: use
    :func:`packing_metadata_padded` there.
    """
    _check_inputs("packing_metadata", attention_mask, position_ids)
    fields = _ops.packing_metadata(attention_mask, position_ids, pad_to, strict)
    return PackingMetadata(*fields)


def packing_metadata_padded(attention_mask: Optional[torch.Tensor] = None,
                            position_ids: Optional[torch.Tensor] = None, *,
                            max_documents: int = -1, pad_to: int = 1,
                            strict: bool = True) -> PackingMetadataPadded:
    """:func:`packing_metadata` without a host sync, at fixed shapes (CUDA graphs).

    ``max_documents`` (``M``; -1: ``N``, the input's tokens) bounds the
    documents. Fill values (:class:`PackingMetadataPadded`): ``indices``
    -1 after ``nnz``; ``cu_seqlens`` and ``cu_seqlens_padded`` repeat their
    last boundary after ``D``; ``seqlens`` 0 after ``D``; every position
    past ``cu_seqlens[M]`` (the padding tail) counts as one more document,
    numbered ``M`` in ``seq_idx``, with ``position_ids`` 0, 1, ... there.
    ``summary = (nnz, D, max_seqlen, overflow, violation)``: ``overflow`` is
    1 when ``D > M`` (the fields hold the first ``M`` documents; the tail
    then holds the rest); ``violation`` is 1 when a strict check failed on
    CUDA (the other fields are then unspecified; :func:`packing_metadata`
    names the place). On the CPU a violation raises instead.
    """
    _check_inputs("packing_metadata_padded", attention_mask, position_ids,
                  data_dependent=False)
    fields = _ops.packing_metadata_padded(attention_mask, position_ids, max_documents,
                                          pad_to, strict)
    return PackingMetadataPadded(*fields)
