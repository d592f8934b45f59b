"""Fake (meta) kernels of the packjit ops, for torch.compile and FakeTensor.

Each says what the op returns without reading data: shapes, dtypes, device.
Sizes that depend on the mask's values (``nnz`` tokens, ``D`` documents, the
longest document) are unbacked SymInts, one fresh symbol each:
``cu_seqlens`` has ``D + 1`` entries but gets its own symbol (``>= 1``)
rather than ``D + 1``, since nothing in the trace defines ``D`` itself. The
padded variant's shapes are static. The kernels themselves (CPU, CUDA) and the
autograd formulas stay in C++; this module only registers what tracing needs.
They are grouped as the ops' C++ files are (``ops/src/<op>.cpp``,
docs/ops.md); ``is_indexed_packed_mask`` and ``unpad_input_from_mask`` are
composites of the other ops and need none. Python, not C++, because a fake
kernel creates unbacked SymInts (``torch.library.get_ctx()``).
Needs ``torch.library.register_fake`` (torch >= 2.4); older torch has no
torch.compile of custom ops to serve, and nothing is registered.
"""

import torch


def _dynamic_size(upper=None, lower=0):
    """A fresh unbacked SymInt in [lower, upper] (upper only when it is a plain int)."""
    ctx = torch.library.get_ctx()
    if isinstance(upper, int):
        return ctx.new_dynamic_size(min=lower, max=max(upper, lower))
    return ctx.new_dynamic_size(min=lower)


# get_unpad_data, get_seqlens_in_batch, get_unpad_data_padded
# (ops/src/unpad_data.cpp)

_SUMMARY_FIELDS = 4


def _seqlens_dtype(mask_dtype):
    return mask_dtype if mask_dtype in (torch.int64, torch.int32) else torch.int32


def _check_mask(op, mask):
    torch._check(mask.dim() == 2,
                 lambda: f"packjit.{op}: attention_mask should be 2-D [batch, seqlen], "
                 f"got {mask.dim()}-D")
    torch._check(not mask.dtype.is_floating_point and not mask.dtype.is_complex,
                 lambda: f"packjit.{op}: attention_mask should be an integer or bool "
                 f"tensor, got {mask.dtype}")


def _get_unpad_data(attention_mask, strict=True):
    _check_mask("get_unpad_data", attention_mask)
    n = attention_mask.numel()
    nnz = _dynamic_size(n)
    boundaries = _dynamic_size(n + 1, lower=1)
    longest = _dynamic_size(n)
    return (attention_mask.new_empty((nnz,), dtype=torch.int64),
            attention_mask.new_empty((boundaries,), dtype=torch.int32), longest)


def _get_seqlens_in_batch(attention_mask, strict=True):
    _check_mask("get_seqlens_in_batch", attention_mask)
    docs = _dynamic_size(attention_mask.numel())
    return attention_mask.new_empty((docs,), dtype=_seqlens_dtype(attention_mask.dtype))


def _get_unpad_data_padded(attention_mask, strict=True, max_documents=-1):
    _check_mask("get_unpad_data_padded", attention_mask)
    torch._check(max_documents >= -1,
                 lambda: "packjit.get_unpad_data_padded: max_documents should be "
                 f">= 0, or -1 for batch*seqlen, got {max_documents}")
    n = attention_mask.numel()
    docs = n if max_documents < 0 else max_documents
    return (attention_mask.new_empty((n,), dtype=torch.int64),
            attention_mask.new_empty((docs + 1,), dtype=torch.int32),
            attention_mask.new_empty((_SUMMARY_FIELDS,), dtype=torch.int64))


# cu_seqlens_from_position_ids (ops/src/cu_seqlens_from_position_ids.cpp)

def _cu_seqlens_from_position_ids(position_ids, strict=True):
    torch._check(1 <= position_ids.dim() <= 2,
                 lambda: "packjit.cu_seqlens_from_position_ids: position_ids should "
                 f"be [N], [1, N] or [batch, seqlen], got {position_ids.dim()}-D")
    n = position_ids.numel()
    boundaries = _dynamic_size(n + 1, lower=1)
    longest = _dynamic_size(n)
    return position_ids.new_empty((boundaries,), dtype=torch.int32), longest


def _cu_seqlens_from_position_ids_padded(position_ids, strict=True, max_documents=-1):
    torch._check(1 <= position_ids.dim() <= 2,
                 lambda: "packjit.cu_seqlens_from_position_ids_padded: position_ids "
                 f"should be [N], [1, N] or [batch, seqlen], got {position_ids.dim()}-D")
    torch._check(max_documents >= -1,
                 lambda: "packjit.cu_seqlens_from_position_ids_padded: max_documents "
                 f"should be -1 (B*S) or >= 0, got {max_documents}")
    n = position_ids.numel()
    docs = n if max_documents < 0 else max_documents
    return (position_ids.new_empty((docs + 1,), dtype=torch.int32),
            position_ids.new_empty((4,), dtype=torch.int64))


# unpad_input, pad_input, unpad_inputs (ops/src/unpad_input.cpp)

def _unpad_input(hidden, indices):
    torch._check(hidden.dim() >= 2, lambda: "packjit.unpad_input: hidden should be "
                 f"[batch, seqlen, ...] (at least 2-D), got {hidden.dim()}-D")
    torch._check(indices.dim() == 1, lambda: "packjit.unpad_input: indices should "
                 f"be 1-D, got {indices.dim()}-D")
    return hidden.new_empty((indices.shape[0], *hidden.shape[2:]))


def _pad_input(x, indices, batch, seqlen):
    torch._check(x.dim() >= 1, lambda: "packjit.pad_input: x should be [nnz, ...]")
    torch._check(indices.dim() == 1, lambda: "packjit.pad_input: indices should "
                 f"be 1-D, got {indices.dim()}-D")
    return x.new_empty((batch, seqlen, *x.shape[1:]))


def _unpad_inputs(hidden, indices):
    return [_unpad_input(h, indices) for h in hidden]


# context_parallel_partition(_padded) (ops/src/context_parallel_partition.cpp)

def _check_partition(op, cu_seqlens_padded, cp_size, cp_rank):
    torch._check(cu_seqlens_padded.dim() == 1,
                 lambda: f"packjit.{op}: cu_seqlens_padded should be 1-D [documents + 1], "
                 f"got {cu_seqlens_padded.dim()}-D")
    torch._check(cu_seqlens_padded.dtype in (torch.int32, torch.int64),
                 lambda: f"packjit.{op}: cu_seqlens_padded should be int32 or int64, got "
                 f"{cu_seqlens_padded.dtype}")
    torch._check(cp_size >= 1, lambda: f"packjit.{op}: cp_size should be >= 1, got {cp_size}")
    torch._check(0 <= cp_rank < cp_size,
                 lambda: f"packjit.{op}: cp_rank should be in [0, cp_size) = [0, {cp_size}), "
                 f"got {cp_rank}")


def _context_parallel_partition(cu_seqlens_padded, cp_size, cp_rank):
    _check_partition("context_parallel_partition", cu_seqlens_padded, cp_size, cp_rank)
    tokens = _dynamic_size()
    longest = _dynamic_size()
    return (cu_seqlens_padded.new_empty((tokens,), dtype=torch.int64),
            cu_seqlens_padded.new_empty(cu_seqlens_padded.shape, dtype=torch.int32), longest)


def _context_parallel_partition_padded(cu_seqlens_padded, cp_size, cp_rank, total_tokens):
    _check_partition("context_parallel_partition_padded", cu_seqlens_padded, cp_size, cp_rank)
    torch._check(total_tokens >= 0 and total_tokens % cp_size == 0,
                 lambda: "packjit.context_parallel_partition_padded: total_tokens should be "
                 f">= 0 and a multiple of cp_size = {cp_size}, got {total_tokens}")
    return (cu_seqlens_padded.new_empty((total_tokens // cp_size,), dtype=torch.int64),
            cu_seqlens_padded.new_empty(cu_seqlens_padded.shape, dtype=torch.int32),
            cu_seqlens_padded.new_empty((3,), dtype=torch.int64))


# packing_metadata, packing_metadata_padded (ops/src/packing_metadata.cpp)

def _packing_tokens(op, attention_mask, position_ids, pad_to):
    """The tokens N of the input and the device tensor to allocate like."""
    torch._check(attention_mask is not None or position_ids is not None,
                 lambda: f"packjit.{op}: pass an attention_mask, position_ids, or both")
    torch._check(pad_to >= 1, lambda: f"packjit.{op}: pad_to should be >= 1, got {pad_to}")
    if attention_mask is not None:
        _check_mask(op, attention_mask)
        return attention_mask.numel(), attention_mask
    torch._check(1 <= position_ids.dim() <= 2 or
                 (position_ids.dim() == 3 and position_ids.shape[0] == 4),
                 lambda: f"packjit.{op}: position_ids should be [N], [B, S] or [4, B, S], "
                 f"got shape {tuple(position_ids.shape)}")
    text = position_ids[0] if position_ids.dim() == 3 else position_ids
    return text.numel(), position_ids


def _packing_metadata(attention_mask, position_ids, pad_to=1, strict=True):
    n, like = _packing_tokens("packing_metadata", attention_mask, position_ids, pad_to)
    # Position ids alone keep every token: nnz is static.
    nnz = _dynamic_size(n) if attention_mask is not None else n
    boundaries = _dynamic_size(n + 1, lower=1)
    docs = _dynamic_size(n)
    longest = _dynamic_size(n)
    return (like.new_empty((nnz,), dtype=torch.int64),
            like.new_empty((boundaries,), dtype=torch.int32), longest,
            like.new_empty((docs,), dtype=torch.int32),
            like.new_empty((nnz,), dtype=torch.int32),
            like.new_empty((nnz,), dtype=torch.int64),
            like.new_empty((boundaries,), dtype=torch.int32))


def _packing_metadata_padded(attention_mask, position_ids, max_documents=-1, pad_to=1,
                             strict=True):
    n, like = _packing_tokens("packing_metadata_padded", attention_mask, position_ids,
                              pad_to)
    torch._check(max_documents >= -1,
                 lambda: "packjit.packing_metadata_padded: max_documents should be -1 "
                 f"(N) or >= 0, got {max_documents}")
    docs = n if max_documents < 0 else max_documents
    return (like.new_empty((n,), dtype=torch.int64),
            like.new_empty((docs + 1,), dtype=torch.int32),
            like.new_empty((docs,), dtype=torch.int32),
            like.new_empty((n,), dtype=torch.int32),
            like.new_empty((n,), dtype=torch.int64),
            like.new_empty((docs + 1,), dtype=torch.int32),
            like.new_empty((5,), dtype=torch.int64))


_FAKE_KERNELS = {
    "packjit::get_unpad_data": _get_unpad_data,
    "packjit::get_seqlens_in_batch": _get_seqlens_in_batch,
    "packjit::get_unpad_data_padded": _get_unpad_data_padded,
    "packjit::cu_seqlens_from_position_ids": _cu_seqlens_from_position_ids,
    "packjit::cu_seqlens_from_position_ids_padded": _cu_seqlens_from_position_ids_padded,
    "packjit::unpad_input": _unpad_input,
    "packjit::pad_input": _pad_input,
    "packjit::unpad_inputs": _unpad_inputs,
    # context parallelism
    "packjit::context_parallel_partition": _context_parallel_partition,
    "packjit::context_parallel_partition_padded": _context_parallel_partition_padded,
    # packing_metadata
    "packjit::packing_metadata": _packing_metadata,
    "packjit::packing_metadata_padded": _packing_metadata_padded,
}


def register():
    """Registers every fake kernel once (a no-op before torch 2.4)."""
    register_fake = getattr(torch.library, "register_fake", None)
    if register_fake is not None:
        for op, kernel in _FAKE_KERNELS.items():
            register_fake(op, kernel)
