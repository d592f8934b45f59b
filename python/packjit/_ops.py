"""The packjit ops as plain Python functions (semantics: docs/ops.md)."""

from typing import Optional, Tuple

import torch

from ._library import load_library

load_library()
_ops = torch.ops.packjit


def _require_tensor(op: str, name: str, value, data_dependent: bool = True) -> None:
    """A clear error for a missing or non-tensor argument (the dispatcher's
    own says "no tensor arguments" or names no argument), and for a meta
    tensor the op cannot take (see :func:`_reject_meta`)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"packjit.{op}: {name} should be a tensor, got "
                        f"{'None' if value is None else type(value).__name__}")
    _reject_meta(op, name, value, data_dependent)


# torch.library.register_fake (torch >= 2.4) registers the fake kernels of
# _fake.py, which also serve meta tensors.
_HAS_FAKE_KERNELS = hasattr(torch.library, "register_fake")


def _reject_meta(op: str, name: str, value, data_dependent: bool) -> None:
    """Meta tensors have shapes but no values. An op whose result depends on
    the values (``data_dependent``) cannot run on one; the others run through
    their fake kernels where torch has them. Either way the error names the
    op, not the dispatcher's "Could not run ... with arguments from the
    'Meta' backend"."""
    if not value.is_meta:
        return
    if data_dependent:
        raise NotImplementedError(
            f"packjit.{op}: {name} is a meta tensor, but the op's result depends on its "
            "values, which a meta tensor does not have. torch.compile traces the op with "
            "FakeTensors (its fake kernel gives data-dependent sizes as unbacked SymInts); "
            "to run it, pass a CPU or CUDA tensor.")
    if not _HAS_FAKE_KERNELS:
        raise NotImplementedError(
            f"packjit.{op}: {name} is a meta tensor; meta tensors run through packjit's "
            f"fake kernels, which need torch >= 2.4 (this is torch {torch.__version__}). "
            "Pass a CPU or CUDA tensor.")


def get_unpad_data(attention_mask: torch.Tensor, strict: bool = True
                   ) -> Tuple[torch.Tensor, torch.Tensor, int]:
    """Returns ``(indices, cu_seqlens, max_seqlen_in_batch)`` for flash-attention's varlen path.

    ``attention_mask`` is ``[B, S]`` of dtype int64, int32, int16, int8, uint8
    or bool, on the CPU or a GPU, any strides. 0 is padding; in each row the
    non-zero tokens split into maximal runs of equal value, one document each.

    - ``indices``: int64 ``[nnz]``, flat positions ``b*S+s`` of the non-zero entries.
    - ``cu_seqlens``: int32 ``[D+1]``, 0 then the running sums of the document lengths.
    - ``max_seqlen_in_batch``: the longest document, 0 when there are no tokens.

    With ``strict=True`` the non-zero ids of each row must be non-decreasing
    (then the result equals NeMo Automodel's / LlamaFactory's exactly); a
    violation raises an error naming the row, position and values. Negative
    ids always raise.

    On CUDA it waits on the host for the sizes of its results, so it cannot be
    captured in a CUDA graph (it raises); use ``get_unpad_data_padded`` there.
    """
    _require_tensor("get_unpad_data", "attention_mask", attention_mask)
    indices, cu_seqlens, max_seqlen = _ops.get_unpad_data(attention_mask, strict)
    return indices, cu_seqlens, max_seqlen


def get_unpad_data_padded(attention_mask: torch.Tensor, strict: bool = True,
                          max_documents: int = -1
                          ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``get_unpad_data`` without a host sync, at fixed shapes (CUDA graphs).

    Returns ``(indices, cu_seqlens, summary)``, all on the mask's device:

    - ``indices``: int64 ``[B*S]``, the ``nnz`` flat positions, then -1;
    - ``cu_seqlens``: int32 ``[max_documents+1]`` (``-1``: ``B*S``): 0, the
      running sums of the ``D`` document lengths, then ``nnz`` repeated (empty
      documents); if ``D > max_documents``, the first ``max_documents+1``;
    - ``summary``: int64 ``[4]``: ``nnz``, ``D``, ``max_seqlen_in_batch`` and
      the flat position of the first strict-mode violation (-1: none).

    On CUDA a violation is only reported in ``summary[3]`` (raising would need
    a sync) and the other results are then unspecified; on the CPU it raises.

    CUDA graphs are captured the PyTorch way, with no packjit-specific step:
    ``torch.cuda.graph`` after a warm-up on a side stream,
    ``torch.cuda.make_graphed_callables`` or
    ``torch.compile(mode="reduce-overhead")``; no larger mask needs to have
    run first, and graphs may replay concurrently on different streams. A
    captured call zeroes its own scratch memory inside the graph.
    Details and costs: docs/gpu_unpad.md.
    """
    _require_tensor("get_unpad_data_padded", "attention_mask", attention_mask,
                    data_dependent=False)
    return _ops.get_unpad_data_padded(attention_mask, strict, max_documents)


def get_seqlens_in_batch(attention_mask: torch.Tensor, strict: bool = True) -> torch.Tensor:
    """The document lengths, in the order of ``get_unpad_data``'s cu_seqlens.

    Dtype: the mask's for int64 and int32 masks, int32 for narrower ones and bool.
    """
    _require_tensor("get_seqlens_in_batch", "attention_mask", attention_mask)
    return _ops.get_seqlens_in_batch(attention_mask, strict)


def is_indexed_packed_mask(attention_mask: Optional[torch.Tensor]) -> bool:
    """Whether ``attention_mask`` is an indexed packed mask (any value > 1).

    False for ``None``, bool masks and masks that are not 2-D.
    """
    if isinstance(attention_mask, torch.Tensor):
        _reject_meta("is_indexed_packed_mask", "attention_mask", attention_mask,
                     data_dependent=True)
    return _ops.is_indexed_packed_mask(attention_mask)


def cu_seqlens_from_position_ids(position_ids: torch.Tensor, strict: bool = True
                                 ) -> Tuple[torch.Tensor, int]:
    """``(cu_seqlens, max_seqlen)`` for sequences packed by position ids.

    ``position_ids`` is ``[N]``, ``[1, N]`` or ``[B, S]``. A sequence starts
    where the position equals the smallest position in the tensor (0 for most
    models, ``padding_idx + 1`` for RoBERTa-like ones) and at each row start,
    as transformers' ``DataCollatorWithFlattening`` packs them. With
    ``strict=True`` positions inside a sequence must increase by exactly 1.
    """
    _require_tensor("cu_seqlens_from_position_ids", "position_ids", position_ids)
    cu_seqlens, max_seqlen = _ops.cu_seqlens_from_position_ids(position_ids, strict)
    return cu_seqlens, max_seqlen


def cu_seqlens_from_position_ids_padded(position_ids: torch.Tensor, strict: bool = True,
                                        max_documents: int = -1
                                        ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sync-free ``cu_seqlens_from_position_ids`` at fixed shapes, for CUDA graphs.

    Returns, on ``position_ids``' device:

    - ``cu_seqlens``: int32 ``[max_documents + 1]`` (``max_documents=-1``:
      ``N + 1``), the ``D + 1`` boundaries, then ``N``;
    - ``summary``: int64 ``[4]`` = ``(N, D, max_seqlen, invalid)``.

    ``invalid`` is 1 when ``strict`` and a position inside a sequence is not
    the one before it + 1 (the other results are then unspecified; the eager
    op names the place); on the CPU such ids raise instead. ``D >
    max_documents`` means only the first ``max_documents + 1`` boundaries fit.
    """
    _require_tensor("cu_seqlens_from_position_ids_padded", "position_ids", position_ids,
                    data_dependent=False)
    return _ops.cu_seqlens_from_position_ids_padded(position_ids, strict, max_documents)


def wait_for_background_compiles() -> None:
    """Blocks until every kernel queued for a background compile is loaded (or failed).

    The first CUDA call at a new row length runs a generic kernel while the
    kernel specialized for that length compiles on a background thread; a
    later call uses it once it is loaded (tiered specialization,
    docs/runtime.md; ``PACKJIT_TIERED=0`` turns it off). Tests and benchmarks
    that want the specialized kernel in place call this first. Returns at
    once when nothing is queued. It holds the GIL while it waits (the
    compiles do not need it).
    """
    _ops.wait_for_background_compiles()
