"""packjit.packing_metadata and packing_metadata_padded against a naive
reference written here (documents as shared/DESIGN.md defines them), their
strict-mode errors, their fake kernels (opcheck, torch.compile) and, on CUDA,
CUDA against the CPU with the host syncs counted."""

import math

import pytest
import torch

import packjit
from packed_masks import generator, random_packed_mask

MASK = [[1, 1, 2, 2, 2, 0], [1, 2, 2, 3, 3, 3]]
MASK_DTYPES = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool]
POSITION_DTYPES = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]


def devices():
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def reference_documents(mask=None, positions=None):
    """Each document as the list of its flat positions b*S+s, in order."""
    docs = []
    if mask is not None:
        rows = mask.long().tolist()
        width = len(rows[0]) if rows else 0
        for b, row in enumerate(rows):
            previous = 0
            for s, value in enumerate(row):
                if value == 0:
                    continue
                if value != previous:
                    docs.append([])
                    previous = value
                docs[-1].append(b * width + s)
        return docs
    text = positions[0] if positions.dim() == 3 else positions
    rows = (text.reshape(1, -1) if text.dim() == 1 else text).long().tolist()
    start = min(min(row) for row in rows) if text.numel() else 0
    width = len(rows[0]) if rows else 0
    for b, row in enumerate(rows):
        for s, value in enumerate(row):
            if s == 0 or value == start:
                docs.append([])
            docs[-1].append(b * width + s)
    return docs


def reference_metadata(docs, pad_to=1):
    lengths = [len(d) for d in docs]
    cu, padded = [0], [0]
    for length in lengths:
        cu.append(cu[-1] + length)
        padded.append(padded[-1] + math.ceil(length / pad_to) * pad_to)
    return {
        "indices": [i for d in docs for i in d],
        "cu_seqlens": cu,
        "max_seqlen": max(lengths, default=0),
        "seqlens": lengths,
        "seq_idx": [d for d, length in enumerate(lengths) for _ in range(length)],
        "position_ids": [k for length in lengths for k in range(length)],
        "cu_seqlens_padded": padded,
    }


FIELD_DTYPES = {"indices": torch.int64, "cu_seqlens": torch.int32, "seqlens": torch.int32,
                "seq_idx": torch.int32, "position_ids": torch.int64,
                "cu_seqlens_padded": torch.int32}


def assert_metadata(meta, want, device):
    assert isinstance(meta, packjit.PackingMetadata)
    assert meta.max_seqlen == want["max_seqlen"] and isinstance(meta.max_seqlen, int)
    for name, dtype in FIELD_DTYPES.items():
        tensor = getattr(meta, name)
        assert tensor.dtype == dtype, name
        assert tensor.device.type == device, name
        assert tensor.tolist() == want[name], name
        # Each field owns exactly its bytes: no view of an upper-bound buffer.
        assert tensor.untyped_storage().nbytes() == tensor.numel() * tensor.element_size() \
            if hasattr(tensor, "untyped_storage") else True, name


def seam_crossing(mask):
    """Whether some row starts with the id v >= 2 that ends the row before it."""
    m = mask.long()
    return bool(((m[:-1, -1] >= 2) & (m[:-1, -1] == m[1:, 0])).any()) if m.shape[1] else False


def test_seed_mask():
    meta = packjit.packing_metadata(torch.tensor(MASK), pad_to=2)
    assert_metadata(meta, reference_metadata(reference_documents(torch.tensor(MASK)), 2),
                    "cpu")
    assert meta.cu_seqlens.tolist() == [0, 2, 5, 6, 8, 11]
    assert meta.seq_idx.tolist() == [0, 0, 1, 1, 1, 2, 3, 3, 4, 4, 4]
    assert meta.position_ids.tolist() == [0, 1, 0, 1, 2, 0, 0, 1, 0, 1, 2]
    assert meta.cu_seqlens_padded.tolist() == [0, 2, 6, 8, 10, 14]


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("dtype", MASK_DTYPES)
def test_random_masks(device, dtype):
    g = generator("packing_metadata", dtype)
    for trial in range(12):
        batch, seqlen = int(torch.randint(1, 6, (1,), generator=g)), \
            int(torch.randint(1, 40, (1,), generator=g))
        mask = random_packed_mask(batch, seqlen, g, dtype=dtype)
        pad_to = 1 + trial % 16
        want = reference_metadata(reference_documents(mask), pad_to)
        assert_metadata(packjit.packing_metadata(mask.to(device), pad_to=pad_to,
                                                 strict=False), want, device)
        if seam_crossing(mask):
            with pytest.raises(RuntimeError, match="crosses the end of a row"):
                packjit.packing_metadata(mask.to(device), pad_to=pad_to)
        else:
            assert_metadata(packjit.packing_metadata(mask.to(device), pad_to=pad_to),
                            want, device)


def packed_positions(lengths_per_row, width, start=0):
    rows = []
    for lengths in lengths_per_row:
        row = [start + k for length in lengths for k in range(length)]
        rows.append(row + [start] * (width - len(row)))
    return torch.tensor(rows)


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("dtype", POSITION_DTYPES)
def test_position_ids(device, dtype):
    positions = packed_positions([[3, 2, 1], [4, 2]], 6).to(dtype)
    for ids in (positions, positions.reshape(-1), positions.reshape(1, -1),
                torch.stack([positions, positions * 0 + 7, positions, positions])):
        meta = packjit.packing_metadata(position_ids=ids.to(device), pad_to=4)
        want = reference_metadata(reference_documents(positions=ids), 4)
        assert_metadata(meta, want, device)
        assert meta.indices.tolist() == list(range(ids.shape[-1] * (
            ids.shape[-2] if ids.dim() >= 2 else 1)))
    # RoBERTa-like positions start at padding_idx + 1.
    meta = packjit.packing_metadata(position_ids=torch.tensor([2, 3, 4, 2, 3]).to(device))
    assert meta.position_ids.tolist() == [0, 1, 2, 0, 1]


def test_three_row_multimodal_positions_are_refused():
    with pytest.raises(RuntimeError, match=r"\[4, B, S\].*not a packed|not a packed layout"):
        packjit.packing_metadata(position_ids=torch.zeros(3, 2, 5, dtype=torch.long))
    with pytest.raises(RuntimeError, match=r"\[4, B, S\]"):
        packjit.packing_metadata(position_ids=torch.zeros(5, 2, 5, dtype=torch.long))


@pytest.mark.parametrize("device", devices())
def test_both_inputs(device):
    mask = torch.tensor(MASK, device=device)
    consistent = torch.tensor([[0, 1, 0, 1, 2, 9], [0, 0, 1, 0, 1, 2]], device=device)
    meta = packjit.packing_metadata(mask, consistent)
    assert_metadata(meta, reference_metadata(reference_documents(mask.cpu())), device)
    multimodal = torch.stack([consistent, consistent + 5, consistent, consistent])
    assert_metadata(packjit.packing_metadata(mask, multimodal),
                    reference_metadata(reference_documents(mask.cpu())), device)
    # A restart inside mask document 3 of row 1.
    merged = torch.tensor([[0, 1, 0, 1, 2, 0], [0, 0, 1, 0, 1, 0]], device=device)
    with pytest.raises(RuntimeError, match=r"position_ids\[1, 5\] = 0 .*restart"):
        packjit.packing_metadata(mask, merged)
    # No restart where the mask starts document 2 of row 0.
    missing = torch.tensor([[0, 1, 2, 3, 4, 0], [0, 0, 1, 0, 1, 2]], device=device)
    with pytest.raises(RuntimeError, match=r"position_ids\[0, 2\] = 2 .*starts document 2"):
        packjit.packing_metadata(mask, missing)
    # Not strict: the mask alone decides.
    assert packjit.packing_metadata(mask, missing, strict=False).cu_seqlens.tolist() == \
        [0, 2, 5, 6, 8, 11]
    with pytest.raises(RuntimeError, match="shape"):
        packjit.packing_metadata(mask, consistent[:, :5])


@pytest.mark.parametrize("device", devices())
def test_documents_crossing_a_row_end(device):
    crossing = torch.tensor([[1, 1, 2, 2], [2, 3, 3, 0]], device=device)
    with pytest.raises(RuntimeError, match=r"attention_mask\[1, 0\] = 2 continues document 2"):
        packjit.packing_metadata(crossing)
    assert packjit.packing_metadata(crossing, strict=False).seqlens.tolist() == [2, 2, 1, 2]
    # Per-row numbering (each row from 1), padding at the seam, bool masks: fine.
    for fine in ([[1, 1, 1, 1], [1, 1, 2, 2]], [[1, 2, 2, 0], [2, 2, 3, 3]]):
        packjit.packing_metadata(torch.tensor(fine, device=device))
    packjit.packing_metadata(torch.ones(3, 4, dtype=torch.bool, device=device))
    with pytest.raises(RuntimeError, match=r"position_ids\[1, 0\] = 3 continues"):
        packjit.packing_metadata(position_ids=torch.tensor([[0, 1, 2], [3, 4, 5]],
                                                           device=device))


def test_errors():
    with pytest.raises(ValueError, match="attention_mask, position_ids, or both"):
        packjit.packing_metadata()
    for pad_to in (0, -2):
        with pytest.raises(RuntimeError, match="pad_to should be >= 1"):
            packjit.packing_metadata(torch.tensor(MASK), pad_to=pad_to)
    with pytest.raises(RuntimeError, match="non-decreasing"):
        packjit.packing_metadata(torch.tensor([[2, 1]]))
    with pytest.raises(RuntimeError, match="increase by exactly 1"):
        packjit.packing_metadata(position_ids=torch.tensor([0, 1, 3]))
    with pytest.raises(RuntimeError, match="2-D"):
        packjit.packing_metadata(torch.tensor([1, 1, 2]))
    with pytest.raises(TypeError):
        packjit.packing_metadata([[1, 1]])


def test_empty_inputs():
    for mask in (torch.zeros(0, 5, dtype=torch.long), torch.zeros(3, 4, dtype=torch.long)):
        meta = packjit.packing_metadata(mask)
        assert meta.cu_seqlens.tolist() == [0] and meta.max_seqlen == 0
        assert meta.seq_idx.numel() == 0 and meta.cu_seqlens_padded.tolist() == [0]
    meta = packjit.packing_metadata(position_ids=torch.zeros(0, dtype=torch.long))
    assert meta.cu_seqlens.tolist() == [0] and meta.indices.numel() == 0


def padded_reference(want, tokens, max_documents):
    """packing_metadata_padded's fill values (packjit/ops.h) from the eager ones."""
    m = tokens if max_documents < 0 else max_documents
    d, nnz = len(want["seqlens"]), len(want["indices"])
    cu = (want["cu_seqlens"] + [nnz] * m)[:m + 1]
    padded = (want["cu_seqlens_padded"] + [want["cu_seqlens_padded"][-1]] * m)[:m + 1]
    seq_idx = [sum(1 for b in cu[1:] if b <= k) for k in range(tokens)]
    return {
        "indices": want["indices"] + [-1] * (tokens - nnz),
        "cu_seqlens": cu,
        "seqlens": [cu[i + 1] - cu[i] for i in range(m)],
        "seq_idx": seq_idx,
        "position_ids": [k - cu[seq_idx[k]] for k in range(tokens)],
        "cu_seqlens_padded": padded,
        "summary": [nnz, d, want["max_seqlen"], int(d > m), 0],
    }


@pytest.mark.parametrize("device", devices())
def test_padded_form(device):
    g = generator("packing_metadata_padded")
    cases = [(torch.tensor(MASK), None), (None, packed_positions([[3, 2], [1, 4]], 5))]
    for _ in range(6):
        cases.append((random_packed_mask(3, 20, g), None))
    for mask, positions in cases:
        tokens = (mask if mask is not None else positions).numel()
        want = reference_metadata(reference_documents(mask, positions), 3)
        for max_documents in (-1, 0, 2, len(want["seqlens"]), 40):
            got = packjit.packing_metadata_padded(
                None if mask is None else mask.to(device),
                None if positions is None else positions.to(device),
                max_documents=max_documents, pad_to=3, strict=False)
            expected = padded_reference(want, tokens, max_documents)
            for name, values in expected.items():
                assert getattr(got, name).tolist() == values, (name, max_documents)
                assert getattr(got, name).device.type == device


# torch.compile and FakeTensor (torch >= 2.4)

needs_fake = pytest.mark.skipif(
    not hasattr(torch.library, "register_fake") or not hasattr(torch.library, "opcheck"),
    reason=f"torch {torch.__version__} has no torch.library.register_fake/opcheck")


@needs_fake
@pytest.mark.parametrize("device", devices())
def test_opcheck(device):
    mask = random_packed_mask(3, 17, generator("opcheck"), dtype=torch.int32).to(device)
    positions = packed_positions([[3, 2, 1], [4, 2]], 6).to(device)
    op = torch.ops.packjit.packing_metadata.default
    for args in [(mask, None, 1, False), (mask != 0, None, 4, True),
                 (None, positions, 2, True), (None, positions.reshape(-1), 1, True),
                 (torch.tensor(MASK, device=device), positions, 1, False)]:
        torch.library.opcheck(op, args)
    padded = torch.ops.packjit.packing_metadata_padded.default
    for args in [(mask, None, -1, 1, False), (mask, None, 4, 2, False),
                 (None, positions, 3, 2, True)]:
        torch.library.opcheck(padded, args)


@needs_fake
@pytest.mark.parametrize("device", devices())
def test_compile_fullgraph(device):
    def consumer(mask, hidden):
        meta = packjit.packing_metadata(mask, pad_to=2)
        # A Mamba-like per-document cumulative sum and a RoPE-like angle.
        tokens = hidden.reshape(-1)[meta.indices]
        per_doc = torch.zeros(meta.seqlens.shape[0], dtype=hidden.dtype,
                              device=hidden.device).index_add(0, meta.seq_idx, tokens)
        return per_doc, tokens * meta.position_ids, meta.cu_seqlens_padded

    compiled = torch.compile(consumer, fullgraph=True, dynamic=False)
    g = generator("compile")
    for _ in range(2):
        mask = random_packed_mask(2, 16, g).to(device)
        hidden = torch.randn(2, 16, generator=g).to(device)
        for got, want in zip(compiled(mask, hidden), consumer(mask, hidden)):
            torch.testing.assert_close(got, want)


# CUDA: one sync, the derivation on the device

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@needs_cuda
def test_cuda_derivation_makes_no_sync_beyond_the_scan():
    """The eager CUDA op waits once, on its own mailbox (no torch sync); the
    padded form not at all: torch's sync debug mode raises on any sync."""
    mask = random_packed_mask(4, 300, generator("sync")).cuda()
    positions = packed_positions([[3, 2, 1], [4, 2]], 6).cuda()
    packjit.packing_metadata(mask, pad_to=4, strict=False)  # warm-up (compiles)
    packjit.packing_metadata(position_ids=positions)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        packjit.packing_metadata(mask, pad_to=4, strict=False)
        packjit.packing_metadata_padded(mask, max_documents=64, pad_to=4)
        packjit.packing_metadata_padded(position_ids=positions, max_documents=8)
    finally:
        torch.cuda.set_sync_debug_mode(0)
