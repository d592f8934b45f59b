"""flash-attention's bert_padding gather and scatter as packjit ops (docs/padding.md).

Every function is differentiable: the backward of ``pad_input`` is
``unpad_input``, that of ``unpad_input`` a summing scatter (index_add). Data dtypes: float32, float16,
bfloat16, float64, int64, int32; ``indices`` is int64. On the CPU an index
out of range raises; on CUDA (which never syncs to check) such a row reads
as zeros (``unpad_input``) or is skipped (``pad_input``), unless
``PACKJIT_CHECK=1`` makes the kernels check on the device and raise the same
error (a sync per call). ``unpad_input``'s indices may repeat (its gradient
then sums, as ``index_select``'s does); ``pad_input``'s must be distinct (on
the CPU and under ``PACKJIT_CHECK=1`` a repeat raises; otherwise on CUDA
which row lands is unspecified).
"""

from typing import List, Sequence, Tuple

import torch

from ._library import load_library
from ._ops import _reject_meta

load_library()
_ops = torch.ops.packjit


def _reject_meta_tensors(op, **tensors):
    """Meta tensors: shapes only, through the fake kernels (torch >= 2.4)."""
    for name, value in tensors.items():
        if isinstance(value, torch.Tensor):
            _reject_meta(op, name, value, data_dependent=False)


def unpad_input(hidden: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """Rows ``indices`` of ``hidden`` ``[B, S, ...]`` viewed as ``[B*S, ...]``: ``[nnz, ...]``.

    flash-attention's ``index_first_axis(rearrange(hidden, "b s ... -> (b s) ..."), indices)``.
    Any strides; the result is contiguous.
    """
    _reject_meta_tensors("unpad_input", hidden=hidden, indices=indices)
    return _ops.unpad_input(hidden, indices)


def pad_input(x: torch.Tensor, indices: torch.Tensor, batch: int, seqlen: int) -> torch.Tensor:
    """``[batch, seqlen, ...]`` zeros with row ``indices[i]`` (of ``[B*S, ...]``) set to ``x[i]``."""
    _reject_meta_tensors("pad_input", x=x, indices=indices)
    return _ops.pad_input(x, indices, batch, seqlen)


def unpad_inputs(hidden: Sequence[torch.Tensor], indices: torch.Tensor) -> List[torch.Tensor]:
    """``unpad_input`` of each tensor (say q, k and v) with the same indices."""
    hidden = list(hidden)
    _reject_meta_tensors("unpad_inputs", indices=indices,
                         **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
    return _ops.unpad_inputs(hidden, indices)


def unpad_input_from_mask(hidden: torch.Tensor, attention_mask: torch.Tensor, strict: bool = True
                          ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, int, torch.Tensor]:
    """What flash-attention's ``bert_padding.unpad_input(hidden, attention_mask)`` returns.

    ``(hidden_unpad, indices, cu_seqlens, max_seqlen_in_batch, used_seqlens)``
    from one ``get_unpad_data`` on an indexed (or binary) mask ``[B, S]``;
    ``used_seqlens`` is the number of tokens of each row (int32 ``[B]``).
    """
    if isinstance(attention_mask, torch.Tensor):
        _reject_meta("unpad_input_from_mask", "attention_mask", attention_mask,
                     data_dependent=True)
    return _ops.unpad_input_from_mask(hidden, attention_mask, strict)
