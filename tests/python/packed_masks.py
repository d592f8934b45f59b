"""Random indexed packed masks for the Python tests (CPU tensors, reproducible)."""

import zlib

import torch


def generator(*what):
    """A CPU generator seeded from the test's parameters (reproducible)."""
    return torch.Generator().manual_seed(zlib.crc32(repr(what).encode()))


def random_packed_mask(batch, seqlen, generator, dtype=torch.int64, docs_per_row=16,
                       max_padding=0.5):
    """An indexed packed mask [batch, seqlen] on the CPU: in each row documents
    with ids starting at 1..3 and growing by 1 or 2, of random lengths; padding
    of up to max_padding of the row on the right, the left or in the middle
    (sometimes inside a document, which stays one document), and now and then
    a row of padding only. Narrow dtypes keep ids <= 100 (strict-valid); bool
    is the binary mask."""
    rate = min(1.0, (docs_per_row - 1) / max(seqlen, 1))
    starts = torch.rand(batch, seqlen, generator=generator) < rate
    starts[:, 0] = False
    jumps = torch.randint(1, 3, (batch, seqlen), generator=generator) * starts
    ids = 1 + torch.randint(0, 3, (batch, 1), generator=generator) + jumps.cumsum(1)
    if dtype not in (torch.int64, torch.int32):
        ids = ids.clamp(max=100)
    pad = (torch.rand(batch, generator=generator) * max_padding * seqlen).long()
    pad[torch.rand(batch, generator=generator) < 0.05] = seqlen
    where = torch.randint(0, 3, (batch,), generator=generator)  # right, left, middle
    cut = (torch.rand(batch, generator=generator) * (seqlen - pad + 1)).long()
    first = torch.where(where == 0, seqlen - pad, torch.where(where == 1, 0, cut))
    position = torch.arange(seqlen).unsqueeze(0)
    padding = (position >= first[:, None]) & (position < (first + pad)[:, None])
    ids = ids.masked_fill(padding, 0)
    return ids != 0 if dtype == torch.bool else ids.to(dtype)
