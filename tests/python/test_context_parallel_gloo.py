"""shard_packed_batch across 4 processes with torch.distributed's gloo
backend (CPU): every rank shards the same packed batch; all_gather shows the
shards disjoint and covering every real token once, and the gathered labels
and positions equal the unsharded ones (labels shifted within documents)."""

import os
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD = 4

if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip(f"torch {torch.__version__} has no gloo backend", allow_module_level=True)


def packed_batch():
    """The same batch on every rank (seeded): 3 rows of 4-7 documents."""
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from packed_masks import generator, random_packed_mask
    mask = random_packed_mask(3, 96, generator("gloo"), docs_per_row=6)
    input_ids = torch.randint(5, 30000, mask.shape, generator=generator("ids"))
    return mask, input_ids


def worker(rank, store_file, results):
    dist.init_process_group("gloo", init_method=f"file://{store_file}", rank=rank,
                            world_size=WORLD)
    try:
        import packjit
        mask, input_ids = packed_batch()
        shard = packjit.shard_packed_batch(mask, WORLD, rank, input_ids=input_ids)
        # Every rank holds the same number of slots (padded lengths are
        # multiples of 2*WORLD), so all_gather needs no padding.
        fields = torch.stack([shard.slot_indices, shard.flat_indices, shard.labels,
                              shard.position_ids])
        gathered = [torch.empty_like(fields) for _ in range(WORLD)]
        dist.all_gather(gathered, fields)
        if rank == 0:
            results.put([g.tolist() for g in gathered])
    finally:
        dist.destroy_process_group()


def documents_of(mask):
    docs = []
    for b, row in enumerate(mask.tolist()):
        previous = None
        for s, value in enumerate(row):
            if value:
                if value != previous:
                    docs.append([])
                docs[-1].append(b * mask.shape[1] + s)
            previous = value if value else previous
    return docs


def test_gloo_shards_cover_and_labels():
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "store")
        processes = [ctx.Process(target=worker, args=(r, store, results))
                     for r in range(WORLD)]
        for p in processes:
            p.start()
        try:
            gathered = results.get(timeout=60)
        finally:
            for p in processes:
                p.join(timeout=30)
        assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]

    mask, input_ids = packed_batch()
    flat_ids = input_ids.flatten().tolist()
    expected = {}  # flat position -> (label, position in its document)
    for doc in documents_of(mask):
        for k, p in enumerate(doc):
            expected[p] = (flat_ids[doc[k + 1]] if k + 1 < len(doc) else -100, k)
    slots = [s for g in gathered for s in g[0]]
    assert sorted(slots) == list(range(len(slots)))  # the padded buffer, once
    real = [(p, label, pos) for g in gathered for p, label, pos in zip(*g[1:]) if p >= 0]
    assert sorted(p for p, _, _ in real) == sorted(expected)  # every real token once
    assert all(expected[p] == (label, pos) for p, label, pos in real)
    padding = [label for g in gathered for p, label in zip(g[1], g[2]) if p < 0]
    assert all(label == -100 for label in padding)
