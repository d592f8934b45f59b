"""``PackedCollator``: ``DataCollatorWithFlattening`` with packjit's metadata."""

from collections.abc import Mapping
from itertools import chain

import numpy as np
import torch
from transformers import DataCollatorWithFlattening

from .._metadata import packing_metadata


class PackedCollator(DataCollatorWithFlattening):
    """A drop-in for transformers' ``DataCollatorWithFlattening``: the same
    constructor (``return_position_ids=True``, ``separator_id=-100``,
    ``return_flash_attn_kwargs=False``, ``return_seq_idx=False``,
    ``position_ids_start=0``, ``return_tensors="pt"``), the same call
    (``collator(features, return_tensors=None, separator_id=None)``) and the
    same output: keys in the same order, same dtypes and values.

    For a list of examples (dicts with ``input_ids`` and optionally
    ``labels``, as lists, tensors or arrays) the examples are concatenated
    into one row (``N`` tokens, ``D`` examples):

    - ``input_ids``, ``labels``: int64 ``[1, N]``; ``labels`` are the
      examples' labels (else their ``input_ids``) with ``separator_id`` at
      each example's first token;
    - ``position_ids``: int64 ``[1, N]``, ``position_ids_start`` + the position
      within the example;
    - ``seq_idx``: int32 ``[1, N]``, the example's number;
    - ``cu_seq_lens_q`` / ``cu_seq_lens_k``: int32 ``[D + 1]`` (one tensor),
      ``max_length_q`` / ``max_length_k``: Python int, so the attention needs
      no host sync.

    ``position_ids``, ``seq_idx``, the boundaries and the maximum come from
    ``packjit.packing_metadata`` (one CPU pass over the position ids), not
    from per-token Python loops. The
    work is vectorized over the batch (faster than transformers' loops:
    docs/benchmarks.md). Unlike transformers, an empty example or one whose
    ``labels`` and ``input_ids`` differ in length is an error (transformers
    returns ``labels`` that no longer line up with ``input_ids``).

    An already padded batch (a mapping with 2-D ``input_ids`` and an
    ``attention_mask`` ``[B, S]``, indexed: 0 padding, document ``v`` of its
    row marked ``v``; or binary: one document per row) goes through
    ``packjit.packing_metadata(attention_mask=...)`` (strict: a document may
    not cross a row's end, ids may not decrease) and returns exactly what
    the list of its documents would: each document's tokens (a maximal run
    of one non-zero id within a row, rows in order, padding dropped) become
    one example, with ``labels`` taken from the batch's ``labels`` at the
    same positions if it has them. So the output has the keys above, with
    ``N`` the number of non-padding tokens, and equals
    ``DataCollatorWithFlattening`` applied to those documents.
    """

    def __call__(self, features, return_tensors=None, separator_id=None):
        if return_tensors is None:
            return_tensors = self.return_tensors
        if separator_id is None:
            separator_id = self.separator_id
        if return_tensors not in ("pt", "np"):
            raise ValueError(
                f'return_tensors must be one of ("pt", "np"), {return_tensors=} not supported')
        if isinstance(features, Mapping):
            input_ids, labels, metadata = _from_padded_batch(features)
        else:
            input_ids, labels, metadata = _from_examples(features)
        labels[metadata.cu_seqlens[:-1].long()] = separator_id

        batch = {"input_ids": input_ids[None], "labels": labels[None]}
        if self.return_position_ids:
            batch["position_ids"] = (metadata.position_ids + self.position_ids_start)[None]
        if self.return_seq_idx:
            batch["seq_idx"] = metadata.seq_idx[None]
        if self.return_flash_attn_kwargs:
            batch["cu_seq_lens_q"] = batch["cu_seq_lens_k"] = metadata.cu_seqlens
            batch["max_length_q"] = batch["max_length_k"] = metadata.max_seqlen
        if return_tensors == "np":
            batch = {key: value.numpy() if isinstance(value, torch.Tensor) else value
                     for key, value in batch.items()}
        return batch


def _metadata_of_lengths(lengths):
    """``packjit.packing_metadata`` of documents of ``lengths`` (int64 [D])
    back to back, from their position ids (one CPU pass)."""
    starts = torch.cumsum(lengths, 0) - lengths
    total = int(lengths.sum())
    positions = torch.arange(total, dtype=torch.int64) - torch.repeat_interleave(
        starts, lengths, output_size=total)
    return packing_metadata(position_ids=positions)


def _from_examples(features):
    if len(features) == 0:
        raise ValueError("PackedCollator: no examples to collate")
    ids = [feature["input_ids"] for feature in features]
    lengths = torch.tensor([len(value) for value in ids], dtype=torch.int64)
    if bool((lengths == 0).any()):
        empty = int(torch.nonzero(lengths == 0)[0])
        raise ValueError(f"PackedCollator: example {empty} has no input_ids")
    input_ids = _concatenate(ids)
    if "labels" in features[0]:
        label_lists = [feature["labels"] for feature in features]
        for index, (value, length) in enumerate(zip(label_lists, lengths.tolist())):
            if len(value) != length:
                raise ValueError(f"PackedCollator: example {index} has {len(value)} labels for "
                                 f"{length} input_ids")
        labels = _concatenate(label_lists)
    else:
        labels = input_ids.clone()
    return input_ids, labels, _metadata_of_lengths(lengths)


def _concatenate(values):
    """One int64 tensor of 1-D lists, tensors or arrays, back to back."""
    if all(isinstance(value, torch.Tensor) for value in values):
        return torch.cat([value.reshape(-1) for value in values]).to(torch.int64)
    if all(isinstance(value, np.ndarray) for value in values):
        return torch.from_numpy(np.concatenate(values).astype(np.int64, copy=False))
    flat = chain.from_iterable(value.tolist() if hasattr(value, "tolist") else value
                               for value in values)
    return torch.from_numpy(np.fromiter(flat, dtype=np.int64))


def _from_padded_batch(batch):
    input_ids = torch.as_tensor(batch["input_ids"])
    mask = batch.get("attention_mask")
    if mask is None or input_ids.dim() != 2:
        raise ValueError("PackedCollator: a padded batch needs 2-D input_ids and an "
                         "attention_mask of the same shape")
    mask = torch.as_tensor(mask)
    if mask.shape != input_ids.shape:
        raise ValueError(f"PackedCollator: attention_mask {tuple(mask.shape)} and input_ids "
                         f"{tuple(input_ids.shape)} differ in shape")
    metadata = packing_metadata(attention_mask=mask.cpu())
    tokens = input_ids.reshape(-1)[metadata.indices].to(torch.int64)
    if batch.get("labels") is not None:
        labels = torch.as_tensor(batch["labels"]).reshape(-1)[metadata.indices].to(torch.int64)
    else:
        labels = tokens.clone()
    return tokens, labels, metadata
