"""packjit: JIT-compiled kernels for packed-sequence training.

The ops take an *indexed attention mask* ``[B, S]``: 0 is padding, a value
``v > 0`` marks a token of document ``v`` of its row (a bool mask is a binary
mask). A document is a maximal run of equal non-zero values in a row.

    >>> import torch, packjit
    >>> mask = torch.tensor([[1, 1, 2, 2, 2, 0], [1, 2, 2, 3, 3, 3]])
    >>> indices, cu_seqlens, max_seqlen = packjit.get_unpad_data(mask)
    >>> cu_seqlens.tolist(), max_seqlen
    ([0, 2, 5, 6, 8, 11], 3)

The op library (``libpackjit_torch.so``) is found through the environment
variable ``PACKJIT_LIBRARY``, else next to this package (``packjit/lib/``,
where ``pip install`` puts it), else in the build tree (``build/lib/``).
Loading it registers ``torch.ops.packjit.*``; the functions below call those
ops. On torch >= 2.4 every op with a kernel of its own also has a fake
kernel (``_fake.py``; the composite ones trace through the ops they call),
so ``torch.compile(fullgraph=True)`` traces through them.
"""

from . import _fake
from ._library import build_info, library_path, load_library
from ._ops import (
    cu_seqlens_from_position_ids,
    cu_seqlens_from_position_ids_padded,
    get_seqlens_in_batch,
    get_unpad_data,
    get_unpad_data_padded,
    is_indexed_packed_mask,
    wait_for_background_compiles,
)
from ._padding import pad_input, unpad_input, unpad_input_from_mask, unpad_inputs
from ._transformers import patch_transformers, unpatch_transformers

# Context parallelism (docs/context_parallel.md)
from ._context_parallel import (
    ContextParallelShard,
    context_parallel_partition,
    context_parallel_partition_padded,
    shard_packed_batch,
)

# packing_metadata
from ._metadata import (
    PackingMetadata,
    PackingMetadataPadded,
    packing_metadata,
    packing_metadata_padded,
)

_fake.register()

__all__ = [
    # context parallelism
    "ContextParallelShard",
    "context_parallel_partition",
    "context_parallel_partition_padded",
    "shard_packed_batch",
    # the rest
    "build_info",
    "cu_seqlens_from_position_ids",
    "cu_seqlens_from_position_ids_padded",
    "get_seqlens_in_batch",
    "get_unpad_data",
    "get_unpad_data_padded",
    "is_indexed_packed_mask",
    "library_path",
    "load_library",
    "pad_input",
    "patch_transformers",
    "unpad_input",
    "unpad_input_from_mask",
    "unpad_inputs",
    "unpatch_transformers",
    "wait_for_background_compiles",
    # packing_metadata
    "PackingMetadata",
    "PackingMetadataPadded",
    "packing_metadata",
    "packing_metadata_padded",
]
__version__ = "0.1.0"
