"""Context parallelism: TransformerEngine's THD partition of a packed batch
(semantics: docs/context_parallel.md).

Every document is padded to a multiple of ``2 * cp_size`` tokens, cut into
``2 * cp_size`` equal chunks, and rank ``r`` keeps chunks ``r`` and
``2 * cp_size - 1 - r`` (each rank then does the same causal-attention work).
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import torch

from ._library import load_library
from ._ops import _require_tensor, get_unpad_data

load_library()
_ops = torch.ops.packjit


def context_parallel_partition(cu_seqlens_padded: torch.Tensor, cp_size: int, cp_rank: int
                               ) -> Tuple[torch.Tensor, torch.Tensor, int]:
    """Returns ``(indices, cu_seqlens_local, max_seqlen_local)`` of rank ``cp_rank``.

    ``cu_seqlens_padded``: int32 or int64 ``[D+1]``, 0 then the running sums of
    the padded document lengths, each a multiple of ``2 * cp_size`` (else an
    error: rounding down would drop tokens, TransformerEngine #1930).

    - ``indices``: int64 ``[cu_seqlens_padded[D] / cp_size]``, the rank's
      positions in the padded THD buffer, in TransformerEngine's order
      (``thd_get_partitioned_indices``).
    - ``cu_seqlens_local``: int32 ``[D+1]``, ``cu_seqlens_padded / cp_size``.
    - ``max_seqlen_local``: the longest padded document ``/ cp_size``.

    On CUDA the op syncs once (the token count lives on the device); see
    :func:`context_parallel_partition_padded` for the sync-free form.
    """
    _require_tensor("context_parallel_partition", "cu_seqlens_padded", cu_seqlens_padded)
    return _ops.context_parallel_partition(cu_seqlens_padded, cp_size, cp_rank)


def context_parallel_partition_padded(cu_seqlens_padded: torch.Tensor, cp_size: int,
                                      cp_rank: int, total_tokens: int
                                      ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The sync-free form: ``(indices, cu_seqlens_local, summary)`` at fixed shapes.

    ``indices`` has ``total_tokens / cp_size`` entries (``total_tokens``: the
    padded THD buffer's length, a multiple of ``cp_size``), -1 after the
    rank's tokens. ``summary`` is int64 ``[3]`` on the input's device:
    ``(cu_seqlens_padded[D], max_seqlen_local, first bad document or -1)``.
    On CUDA a bad document is only reported there (the other results are then
    unspecified); the CPU raises instead.
    """
    _require_tensor("context_parallel_partition_padded", "cu_seqlens_padded",
                    cu_seqlens_padded, data_dependent=False)
    return _ops.context_parallel_partition_padded(cu_seqlens_padded, cp_size, cp_rank,
                                                  total_tokens)


@dataclass(frozen=True)
class ContextParallelShard:
    """One rank's share of a packed batch (:func:`shard_packed_batch`).

    Per local slot (``n = cu_seqlens_padded[D] / cp_size`` of them, in the
    rank's THD order); a *padding slot* is one of the up to ``2*cp_size - 1``
    tokens added to make a document's length a multiple of ``2 * cp_size``:

    - ``slot_indices``: int64, positions in the global padded THD buffer.
    - ``token_indices``: int64, positions in the unpadded tokens (``0..nnz-1``,
      the order of ``get_unpad_data``'s ``indices``); -1 for a padding slot.
    - ``flat_indices``: int64, positions ``b*S+s`` in the flattened
      ``[B, S]`` batch; -1 for a padding slot.
    - ``position_ids``: int64, the slot's position in its document (RoPE);
      padding slots continue their document's count.
    - ``labels``: int64 or None, the next token's label within the document,
      taken before sharding (so no rank needs a neighbour's token);
      ``ignore_index`` at each document's last token and at padding slots.
    - ``input_ids``: the rank's tokens or None; ``pad_token_id`` at padding slots.

    Per document (``D`` of them, global order): ``cu_seqlens`` (int32, the
    real tokens), ``cu_seqlens_padded`` (int32, padded to ``2*cp_size``),
    ``cu_seqlens_local`` (int32, ``cu_seqlens_padded / cp_size``: the rank's
    THD layout), ``max_seqlen`` and ``max_seqlen_local`` (host ints).
    """

    cp_size: int
    cp_rank: int
    slot_indices: torch.Tensor
    token_indices: torch.Tensor
    flat_indices: torch.Tensor
    position_ids: torch.Tensor
    labels: Optional[torch.Tensor]
    input_ids: Optional[torch.Tensor]
    cu_seqlens: torch.Tensor
    cu_seqlens_padded: torch.Tensor
    cu_seqlens_local: torch.Tensor
    max_seqlen: int
    max_seqlen_local: int

    @property
    def valid(self) -> torch.Tensor:
        """Bool, True at the slots that hold a real token."""
        return self.token_indices >= 0


def _pad_boundaries(cu_seqlens: torch.Tensor, multiple: int) -> torch.Tensor:
    """cu_seqlens with every length rounded up to ``multiple`` (int32)."""
    lengths = (cu_seqlens[1:] - cu_seqlens[:-1]).long()
    padded = (lengths + multiple - 1) // multiple * multiple
    out = torch.zeros(cu_seqlens.numel(), dtype=torch.int64, device=cu_seqlens.device)
    out[1:] = torch.cumsum(padded, 0)
    return out.to(torch.int32)


def _unpadded_view(mask_or_metadata, cp_size: int):
    """(indices, cu_seqlens, cu_seqlens_padded, max_seqlen) of a mask or of a
    PackingMetadata (anything with those fields)."""
    if isinstance(mask_or_metadata, torch.Tensor):
        indices, cu_seqlens, max_seqlen = get_unpad_data(mask_or_metadata)
        return indices, cu_seqlens, _pad_boundaries(cu_seqlens, 2 * cp_size), max_seqlen
    meta = mask_or_metadata
    for field in ("indices", "cu_seqlens", "cu_seqlens_padded", "max_seqlen"):
        if not hasattr(meta, field):
            raise TypeError("packjit.shard_packed_batch: mask_or_metadata should be an "
                            "indexed attention mask [B, S] or a PackingMetadata, got "
                            f"{type(meta).__name__} (no field {field!r})")
    return meta.indices, meta.cu_seqlens, meta.cu_seqlens_padded, int(meta.max_seqlen)


def shard_packed_batch(mask_or_metadata, cp_size: int, cp_rank: int, *,
                       labels: Optional[torch.Tensor] = None,
                       input_ids: Optional[torch.Tensor] = None,
                       ignore_index: int = -100,
                       pad_token_id: int = 0) -> ContextParallelShard:
    """Rank ``cp_rank``'s shard of a packed batch, for ``cp_size`` ranks.

    ``mask_or_metadata``: an indexed attention mask ``[B, S]`` (its documents
    as ``get_unpad_data`` finds them; each is padded to a multiple of
    ``2 * cp_size``), or a ``PackingMetadata`` made with
    ``pad_to=2*cp_size`` (its ``cu_seqlens_padded`` is used as it is).
    ``labels`` / ``input_ids``: ``[B, S]`` (or anything whose flattening
    ``indices`` addresses), unshifted, as transformers' collators give them;
    without ``labels`` the labels are the shifted ``input_ids``, without
    either there are none. See :class:`ContextParallelShard`.
    """
    indices, cu_seqlens, cu_padded, max_seqlen = _unpadded_view(mask_or_metadata, cp_size)
    slots, cu_local, max_local = context_parallel_partition(cu_padded, cp_size, cp_rank)
    device = slots.device
    indices = indices.to(device)
    last_token = max(indices.numel() - 1, 0)
    none = torch.full_like(slots, -1)
    lengths = (cu_seqlens[1:] - cu_seqlens[:-1]).long().to(device)
    starts = cu_seqlens[:-1].long().to(device)
    padded_starts = cu_padded[:-1].long().to(device)
    # The document of each slot: the last padded start <= slot (an empty
    # document shares its start with the next one; right=True skips it).
    doc = torch.searchsorted(padded_starts, slots, right=True) - 1
    offset = slots - padded_starts[doc]
    real = offset < lengths[doc]
    token = torch.where(real, starts[doc] + offset, none)
    flat = torch.where(real, indices[token.clamp(0, last_token)], none)

    def gather(values: torch.Tensor, positions: torch.Tensor, fill: int) -> torch.Tensor:
        """values.flatten()[positions], `fill` where a position is -1."""
        picked = values.reshape(-1).to(device)[positions.clamp(min=0)]
        return torch.where(positions >= 0, picked, torch.full_like(picked, fill))

    shard_ids = gather(input_ids, flat, pad_token_id) if input_ids is not None else None
    shard_labels = None
    source = labels if labels is not None else input_ids
    if source is not None:
        # Token k's label is the source's token k+1 of the same document.
        has_next = real & (offset + 1 < lengths[doc])
        next_flat = torch.where(has_next, indices[(token + 1).clamp(0, last_token)], none)
        shard_labels = gather(source, next_flat, ignore_index).long()
    return ContextParallelShard(
        cp_size=cp_size, cp_rank=cp_rank, slot_indices=slots, token_indices=token,
        flat_indices=flat, position_ids=offset, labels=shard_labels, input_ids=shard_ids,
        cu_seqlens=cu_seqlens, cu_seqlens_padded=cu_padded, cu_seqlens_local=cu_local,
        max_seqlen=int(max_seqlen), max_seqlen_local=int(max_local))
