"""context_parallel_partition against an independent implementation of
TransformerEngine's THD rule (its per-token formula, in numpy), and
shard_packed_batch: disjoint shards that cover every real token once, labels
shifted within documents, positions. On the CPU always; CUDA against the CPU
when there is a GPU."""

import numpy as np
import pytest
import torch

import packjit
from packed_masks import generator, random_packed_mask


def devices():
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def te_partition(cu, cp_size):
    """TransformerEngine's thd_partition_indices_kernel, token by token, for
    every rank at once ([cp_size, tokens]): local token t lies in the document
    whose cu / cp_size bracket it; the first half of its local share comes
    from chunk `rank`, the second from chunk 2*cp_size-1-rank (written as TE
    does: offset 2*cp_size-2-rank plus the index, already one chunk in)."""
    cu = np.asarray(cu, dtype=np.int64)
    rank = np.arange(cp_size)[:, None]
    local = cu // cp_size
    t = np.arange(cu[-1] // cp_size)
    doc = np.searchsorted(local, t, side="right") - 1
    seq_len = local[doc + 1] - local[doc]
    index = t - local[doc]
    offset = np.where(index < seq_len // 2, rank, 2 * cp_size - 2 - rank)
    return index + cu[doc] + seq_len // 2 * offset


def random_cu(rng, cp_size):
    """Random padded boundaries: 0-8 documents (some empty) of 0-5 chunk pairs."""
    documents = rng.integers(0, 9)
    lengths = rng.integers(0, 6, documents) * 2 * cp_size
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def test_partition_equals_transformer_engine_rule():
    rng = np.random.default_rng(15)
    cases = 0
    for case in range(2400):
        cp_size = 1 + case % 16
        cu = random_cu(rng, cp_size)
        dtype = torch.int32 if case % 3 else torch.int64
        cu_t = torch.tensor(cu, dtype=dtype)
        expected = te_partition(cu, cp_size)
        longest = int(np.diff(cu).max()) // cp_size if len(cu) > 1 else 0
        shares = []
        for rank in range(cp_size):
            indices, cu_local, max_local = packjit.context_parallel_partition(
                cu_t, cp_size, rank)
            assert indices.dtype == torch.int64 and cu_local.dtype == torch.int32
            assert np.array_equal(indices.numpy(), expected[rank]), (cu, cp_size, rank)
            assert np.array_equal(cu_local.numpy(), cu // cp_size)
            assert max_local == longest
            shares.append(indices.numpy())
            cases += 1
        # The ranks' shares are disjoint and cover the padded buffer.
        assert np.array_equal(np.sort(np.concatenate(shares)), np.arange(cu[-1]))
    assert cases > 15000


@pytest.mark.parametrize("device", devices())
def test_padded_form_matches(device):
    rng = np.random.default_rng(7)
    for case in range(200):
        cp_size = 1 + case % 8
        cu = torch.tensor(random_cu(rng, cp_size), dtype=torch.int32, device=device)
        rank = case % cp_size
        indices, cu_local, longest = packjit.context_parallel_partition(cu, cp_size, rank)
        extra = cp_size * (case % 3)
        padded, cu_local2, summary = packjit.context_parallel_partition_padded(
            cu, cp_size, rank, int(cu[-1]) + extra)
        n = indices.numel()
        assert torch.equal(padded[:n], indices)
        assert (padded[n:] == -1).all() and padded.numel() == n + extra // cp_size
        assert torch.equal(cu_local2, cu_local)
        assert summary.tolist() == [int(cu[-1]), longest, -1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU: CUDA against CPU skipped")
def test_cuda_equals_cpu_and_reports_bad_documents():
    rng = np.random.default_rng(3)
    for case in range(300):
        cp_size = 1 + case % 16
        cu = torch.tensor(random_cu(rng, cp_size), dtype=torch.int64 if case % 2 else torch.int32)
        rank = case % cp_size
        cpu = packjit.context_parallel_partition(cu, cp_size, rank)
        cuda = packjit.context_parallel_partition(cu.cuda(), cp_size, rank)
        assert torch.equal(cuda[0].cpu(), cpu[0]) and torch.equal(cuda[1].cpu(), cpu[1])
        assert cuda[2] == cpu[2]
    bad = torch.tensor([0, 8, 14, 22], dtype=torch.int32, device="cuda")
    with pytest.raises(RuntimeError, match="document 1 has padded length 6"):
        packjit.context_parallel_partition(bad, 2, 0)
    _, _, summary = packjit.context_parallel_partition_padded(bad, 2, 0, 24)
    assert summary.tolist() == [22, 4, 1]


@pytest.mark.parametrize("device", devices())
def test_errors(device):
    def cu(values, dtype=torch.int32):
        return torch.tensor(values, dtype=dtype, device=device)

    partition = packjit.context_parallel_partition
    with pytest.raises(RuntimeError, match=r"document 1 has padded length 6 .*multiple of "
                       r"2\*cp_size = 4.*TransformerEngine #1930"):
        partition(cu([0, 4, 10]), 2, 0)
    with pytest.raises(RuntimeError, match="non-decreasing"):
        partition(cu([0, 8, 4]), 2, 1)
    with pytest.raises(RuntimeError, match=r"cu_seqlens_padded\[0\] should be 0, got 4"):
        partition(cu([4, 8]), 2, 0)
    with pytest.raises(RuntimeError, match="cp_size should be >= 1, got 0"):
        partition(cu([0, 4]), 0, 0)
    with pytest.raises(RuntimeError, match=r"cp_rank should be in \[0, cp_size\) = \[0, 2\), got 2"):
        partition(cu([0, 4]), 2, 2)
    with pytest.raises(RuntimeError, match="should be int32 or int64"):
        partition(cu([0, 4], torch.float32), 2, 0)
    with pytest.raises(RuntimeError, match="should be 1-D"):
        partition(cu([[0, 4]]), 2, 0)
    with pytest.raises(RuntimeError, match="at least one boundary"):
        partition(cu([]), 2, 0)
    with pytest.raises(RuntimeError, match="total_tokens should be >= 0 and a multiple of "
                       "cp_size = 2, got 5"):
        packjit.context_parallel_partition_padded(cu([0, 4]), 2, 0, 5)


def documents_of(mask):
    """Each document's flat positions, by a Python loop over the rows (runs
    of equal non-zero ids; padding inside a run does not end it)."""
    docs = []
    for b, row in enumerate(mask.tolist()):
        previous = None
        for s, value in enumerate(row):
            if value == 0:
                continue
            if value != previous:
                docs.append([])
            docs[-1].append(b * mask.shape[1] + s)
            previous = value
    return docs


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("cp_size", [1, 2, 3, 4, 8])
def test_shards_cover_tokens_with_shifted_labels(device, cp_size):
    for trial in range(4):
        mask = random_packed_mask(3, 40, generator(cp_size, trial), docs_per_row=4)
        input_ids = torch.randint(5, 1000, mask.shape, generator=generator(trial))
        docs = documents_of(mask)
        flat = [p for doc in docs for p in doc]
        # The reference per token: its label (the next token of its document,
        # -100 at the end) and its position in the document.
        expected = {}
        for doc in docs:
            for k, p in enumerate(doc):
                label = input_ids.flatten()[doc[k + 1]].item() if k + 1 < len(doc) else -100
                expected[p] = (label, k)
        seen = []
        for rank in range(cp_size):
            shard = packjit.shard_packed_batch(mask.to(device), cp_size, rank,
                                               input_ids=input_ids.to(device))
            valid = shard.valid.cpu()
            tokens = shard.token_indices.cpu()
            assert torch.equal(shard.flat_indices.cpu()[valid],
                               torch.tensor(flat, dtype=torch.int64)[tokens[valid]])
            assert (shard.flat_indices.cpu()[~valid] == -1).all()
            assert (shard.labels.cpu()[~valid] == -100).all()
            assert (shard.input_ids.cpu()[~valid] == 0).all()
            for slot in valid.nonzero().flatten().tolist():
                p = shard.flat_indices[slot].item()
                assert (shard.labels[slot].item(), shard.position_ids[slot].item()) == expected[p]
                assert shard.input_ids[slot].item() == input_ids.flatten()[p].item()
            assert shard.slot_indices.numel() == shard.cu_seqlens_padded[-1].item() // cp_size
            assert shard.max_seqlen_local == max(
                [(len(d) + 2 * cp_size - 1) // (2 * cp_size) * 2 for d in docs], default=0)
            seen += tokens[valid].tolist()
        assert sorted(seen) == list(range(len(flat)))  # disjoint, and every token once


def test_shard_labels_given_and_metadata_like():
    mask = torch.tensor([[1, 1, 1, 2, 2, 0]])
    labels = torch.tensor([[10, 11, 12, 13, 14, -100]])
    shard = packjit.shard_packed_batch(mask, 2, 1, labels=labels)
    assert shard.slot_indices.tolist() == [1, 2, 5, 6]
    assert shard.token_indices.tolist() == [1, 2, 4, -1]
    assert shard.labels.tolist() == [12, -100, -100, -100]
    assert shard.input_ids is None
    assert shard.cu_seqlens_local.tolist() == [0, 2, 4]

    class Metadata:  # the fields shard_packed_batch reads from a PackingMetadata
        indices = torch.tensor([0, 1, 2, 3, 4])
        cu_seqlens = torch.tensor([0, 3, 5], dtype=torch.int32)
        cu_seqlens_padded = torch.tensor([0, 4, 8], dtype=torch.int32)
        max_seqlen = 3
    from_meta = packjit.shard_packed_batch(Metadata(), 2, 1, labels=labels)
    assert from_meta.token_indices.tolist() == shard.token_indices.tolist()
    assert from_meta.labels.tolist() == shard.labels.tolist()
    with pytest.raises(TypeError, match="no field .indices."):
        packjit.shard_packed_batch(object(), 2, 0)


@pytest.mark.skipif(not hasattr(torch.library, "opcheck"),
                    reason=f"torch {torch.__version__} has no torch.library.opcheck (needs >= 2.4)")
@pytest.mark.parametrize("device", devices())
def test_opcheck(device):
    cu = torch.tensor([0, 8, 8, 24], dtype=torch.int32, device=device)
    torch.library.opcheck(torch.ops.packjit.context_parallel_partition.default, (cu, 2, 1))
    torch.library.opcheck(torch.ops.packjit.context_parallel_partition.default,
                          (cu.long(), 4, 3))
    torch.library.opcheck(torch.ops.packjit.context_parallel_partition_padded.default,
                          (cu, 2, 0, 32))


@pytest.mark.parametrize("cp_size", [1, 2, 4])
def test_shard_from_packing_metadata_equals_shard_from_mask(cp_size):
    mask = random_packed_mask(2, 50, generator("metadata", cp_size), docs_per_row=5)
    input_ids = torch.randint(5, 1000, mask.shape, generator=generator("ids", cp_size))
    metadata = packjit.packing_metadata(mask, pad_to=2 * cp_size)
    for rank in range(cp_size):
        a = packjit.shard_packed_batch(metadata, cp_size, rank, input_ids=input_ids)
        b = packjit.shard_packed_batch(mask, cp_size, rank, input_ids=input_ids)
        for field in ("slot_indices", "token_indices", "flat_indices", "position_ids",
                      "labels", "input_ids", "cu_seqlens_padded", "cu_seqlens_local"):
            assert torch.equal(getattr(a, field), getattr(b, field)), field
    # A PackingMetadata padded for another cp_size is refused by the partition.
    if cp_size > 1:
        wrong = packjit.packing_metadata(torch.tensor([[1]]), pad_to=cp_size)
        with pytest.raises(RuntimeError, match="multiple of 2\\*cp_size"):
            packjit.shard_packed_batch(wrong, cp_size, 0)
