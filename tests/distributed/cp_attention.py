#!/usr/bin/env python3
"""Context-parallel causal attention over a packed batch (issue 15, item 2).

    torchrun --standalone --nproc-per-node N tests/distributed/cp_attention.py

Every rank builds the same packed batch (an indexed mask with documents of
random lengths, leading and trailing padding; random q, k, v), shards it
with packjit (``packing_metadata(mask, pad_to=2*cp)``, then
``context_parallel_partition(cu_seqlens_padded, cp, rank)``: TransformerEngine's
THD layout, chunks r and 2*cp-1-r of every document), exchanges K/V with
one all-gather in plain torch.distributed, rebuilds each document's K/V in
global order and attends causally with its queries' global positions. The
gathered outputs must equal attention on the whole batch in one process;
the shards must be disjoint and cover every real token exactly once;
packjit's metadata and partition must equal this test's own reference of
the rule (``reference_*`` below).

Backends: NCCL when every rank has a GPU of its own; gloo otherwise (N
ranks on one GPU: NCCL refuses two ranks on one device, so the exchange is
staged through host memory; or the CPU). bf16 on CUDA, fp32 on the CPU.

Tolerance (both sides run the same attention, torch's
scaled_dot_product_attention with a boolean mask, on the same inputs in
the same dtype; they differ only in which padding keys are masked and which
query rows are computed together, so at most in rounding). Per output
element, with u the dtype's unit roundoff (bf16: 2^-8; fp32: 2^-24), n the
document's length (the softmax sum), vmax = max |v| of the document:
each computation rounds the probabilities to the dtype before P @ V (error
<= u * vmax, as they sum to 1), accumulates the n-term sums of the
normaliser and of P @ V in fp32 (<= n * 2^-24 * vmax each) and rounds the
output (<= u * |out|). Two such results differ by at most
    2 * (u + 2 * n * 2^-24) * vmax + 2 * u * |ref|.
For bf16, n = 4096 and vmax = 4.5: 0.040 + 0.0078 |ref|; the worst case,
where every rounding errs the same way; the run prints the largest
observed |difference| / tolerance. A control recomputes each shard with its
queries' positions off by one and must fail the same comparison: the
tolerance cannot hide a position error.

Exit status: 0 when every check passed on every rank, 1 otherwise; one
summary line per rank.
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.nn.functional as F

import packjit

FP32_UNIT_ROUNDOFF = 2.0 ** -24


# ------------------------------------------------------------ the batch


def make_batch(args, dtype):
    """The same packed batch on every rank (a fixed seed, made on the CPU):
    an int64 indexed mask [B, S] and q, k, v [B, S, H, D]."""
    generator = torch.Generator().manual_seed(args.seed)
    mask = torch.zeros(args.batch, args.seqlen, dtype=torch.int64)
    for row in range(args.batch):
        # Row 0 starts with padding (left padding), odd rows end with it.
        start = int(torch.randint(1, 9, (1,), generator=generator)) if row == 0 else 0
        end = args.seqlen
        if row % 2:
            end -= int(torch.randint(1, args.seqlen // 8, (1,), generator=generator))
        document = 1
        while start < end:
            # Mostly long documents, some of one to a few tokens (shorter
            # than 2*cp: their chunks are partly or wholly padding).
            longest = args.max_doc if torch.rand(1, generator=generator) < 0.8 else 6
            length = int(torch.randint(1, longest + 1, (1,), generator=generator))
            mask[row, start:min(end, start + length)] = document
            start += length
            document += 1
    shape = (args.batch, args.seqlen, args.heads, args.head_dim)
    q, k, v = (torch.randn(shape, generator=generator).to(dtype) for _ in range(3))
    return mask, q, k, v


# ------------------------------------------- the test's own reference
# Independent implementations of packing_metadata's THD fields (shared
# DESIGN.md, "Packing metadata") and of TransformerEngine's THD partition
# ("Context parallelism"), in plain torch, to cross-check packjit with.


def reference_metadata(mask, pad_to):
    """(indices, cu_seqlens, seq_idx, position_ids, cu_seqlens_padded) of an
    indexed mask: documents are runs of equal non-zero ids in each row."""
    lengths = []
    for row in mask:
        ids = row[row != 0]
        if ids.numel():
            lengths += torch.unique_consecutive(ids, return_counts=True)[1].tolist()
    seqlens = torch.tensor(lengths, dtype=torch.int64)
    padded = (seqlens + pad_to - 1) // pad_to * pad_to
    zero = torch.zeros(1, dtype=torch.int64)
    cu_seqlens = torch.cat([zero, seqlens.cumsum(0)]).to(torch.int32)
    cu_seqlens_padded = torch.cat([zero, padded.cumsum(0)]).to(torch.int32)
    seq_idx = torch.repeat_interleave(torch.arange(len(lengths)), seqlens)
    position_ids = torch.arange(int(seqlens.sum())) - cu_seqlens.long()[seq_idx]
    indices = torch.nonzero(mask.flatten()).flatten()
    return indices, cu_seqlens, seq_idx.to(torch.int32), position_ids, cu_seqlens_padded


def reference_partition(cu_seqlens_padded, cp_size, cp_rank):
    """TransformerEngine's thd_get_partitioned_indices rule: rank r keeps
    chunks r and 2*cp-1-r of each document's 2*cp equal chunks."""
    cu = cu_seqlens_padded.long().tolist()
    indices, max_local = [], 0
    for start, end in zip(cu[:-1], cu[1:]):
        chunk = (end - start) // (2 * cp_size)
        for which in (cp_rank, 2 * cp_size - 1 - cp_rank):
            indices += range(start + which * chunk, start + (which + 1) * chunk)
        max_local = max(max_local, 2 * chunk)
    cu_local = (cu_seqlens_padded.long() // cp_size).to(torch.int32)
    return torch.tensor(indices, dtype=torch.int64), cu_local, max_local


# ------------------------------------------------------------ sharding


class Checks:
    """Failed checks of this rank, by message."""

    def __init__(self):
        self.failures = []

    def equal(self, what, got, expected):
        got, expected = got.cpu(), expected.cpu()
        if got.shape != expected.shape or not torch.equal(got.long(), expected.long()):
            self.failures.append(f"{what}: packjit {got.tolist()[:12]}... "
                                 f"!= reference {expected.tolist()[:12]}...")


def packjit_metadata(mask, pad_to, checks):
    """packjit's metadata on the rank's device, checked against the test's
    reference."""
    expected = reference_metadata(mask.cpu(), pad_to)
    meta = packjit.packing_metadata(mask, pad_to=pad_to)
    got = (meta.indices, meta.cu_seqlens, meta.seq_idx, meta.position_ids,
           meta.cu_seqlens_padded)
    for name, g, e in zip(("indices", "cu_seqlens", "seq_idx", "position_ids",
                           "cu_seqlens_padded"), got, expected):
        checks.equal(f"packing_metadata(pad_to={pad_to}).{name}", g, e)
    return tuple(t.to(mask.device) for t in got)


def packjit_partition(cu_seqlens_padded, cp_size, cp_rank, checks):
    expected = reference_partition(cu_seqlens_padded.cpu(), cp_size, cp_rank)
    indices, cu_local, max_local = packjit.context_parallel_partition(
        cu_seqlens_padded, cp_size, cp_rank)
    checks.equal(f"context_parallel_partition(rank {cp_rank}).indices", indices, expected[0])
    checks.equal(f"context_parallel_partition(rank {cp_rank}).cu_seqlens_local",
                 cu_local, expected[1])
    if int(max_local) != expected[2]:
        checks.failures.append(f"max_seqlen_local {int(max_local)} != {expected[2]}")
    return indices, cu_local.cpu(), int(max_local)


# ------------------------------------------------------------ attention


def attend(q, k, v, q_positions, k_positions, k_valid):
    """Causal attention of queries q [n, H, D] at q_positions over keys k, v
    [m, H, D] at k_positions (only those with k_valid): key j is seen by
    query i when k_positions[j] <= q_positions[i]."""
    allowed = (k_positions[None, :] <= q_positions[:, None]) & k_valid[None, :]
    q, k, v = (t.transpose(0, 1).unsqueeze(0) for t in (q, k, v))
    if hasattr(F, "scaled_dot_product_attention"):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed[None, None])
    else:  # torch 1.13 (Debian's, CPU fp32): the same formula
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        out = scores.masked_fill(~allowed, float("-inf")).softmax(-1) @ v
    return out[0].transpose(0, 1)


def whole_batch_attention(q, k, v, cu_seqlens):
    """The reference: each document's causal attention in one process."""
    out = torch.empty_like(q)
    cu = cu_seqlens.tolist()
    for start, end in zip(cu[:-1], cu[1:]):
        positions = torch.arange(end - start, device=q.device)
        valid = torch.ones(end - start, dtype=torch.bool, device=q.device)
        out[start:end] = attend(q[start:end], k[start:end], v[start:end],
                                positions, positions, valid)
    return out


def shard_attention(q_local, k_full, v_full, local_indices, cu_local, cu_padded,
                    seqlens, position_shift=0):
    """A rank's attention: per document, its two chunks' queries (global
    positions from the partition's indices) over the document's gathered
    K/V, whose padding slots are masked out."""
    out = torch.zeros_like(q_local)
    for d in range(len(seqlens)):
        rows = slice(int(cu_local[d]), int(cu_local[d + 1]))
        start, end = int(cu_padded[d]), int(cu_padded[d + 1])
        q_positions = local_indices[rows] - start + position_shift
        k_positions = torch.arange(end - start, device=q_local.device)
        out[rows] = attend(q_local[rows], k_full[start:end], v_full[start:end],
                           q_positions, k_positions, k_positions < int(seqlens[d]))
    return out


# ------------------------------------------------------------ exchange


# NCCL's device (set by main), or None for gloo.
_nccl_device = None


def all_gather(tensor):
    """All ranks' tensors (the same shape on every rank), in rank order, on
    the tensor's device. NCCL gathers on the rank's GPU; gloo gathers raw
    bytes in host memory (any dtype, bf16 included, from any device)."""
    world = dist.get_world_size()
    if _nccl_device is not None:
        mine = tensor.contiguous().to(_nccl_device)
        parts = [torch.empty_like(mine) for _ in range(world)]
        dist.all_gather(parts, mine)
        return [p.to(tensor.device) for p in parts]
    raw = tensor.detach().contiguous().cpu().view(torch.uint8)
    parts = [torch.empty_like(raw) for _ in range(world)]
    dist.all_gather(parts, raw)
    return [p.view(tensor.dtype).view(tensor.shape).to(tensor.device) for p in parts]


def tolerance(reference, v_unpadded, cu_seqlens, dtype):
    """Per-element bound on |shard - whole| (the module's docstring)."""
    unit = {torch.bfloat16: 2.0 ** -8, torch.float16: 2.0 ** -11}.get(dtype, FP32_UNIT_ROUNDOFF)
    bound = torch.empty(reference.shape, dtype=torch.float32, device=reference.device)
    cu = cu_seqlens.tolist()
    for start, end in zip(cu[:-1], cu[1:]):
        vmax = v_unpadded[start:end].float().abs().max()
        n = end - start
        bound[start:end] = (2 * (unit + 2 * n * FP32_UNIT_ROUNDOFF) * vmax
                            + 2 * unit * reference[start:end].float().abs())
    return bound


# ------------------------------------------------------------ main


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("auto", "nccl", "gloo"), default="auto")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    parser.add_argument("--dtype", choices=("auto", "bf16", "fp32"), default="auto",
                        help="auto: bf16 on CUDA, fp32 on the CPU")
    parser.add_argument("--batch", type=int)
    parser.add_argument("--seqlen", type=int)
    parser.add_argument("--heads", type=int)
    parser.add_argument("--head-dim", type=int)
    parser.add_argument("--max-doc", type=int, help="longest random document")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--nproc", type=int,
                        help="start this many ranks on this host without torchrun "
                             "(Debian's torch 1.13, whose torchrun fails on Python 3.12)")
    args = parser.parse_args()
    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    # CUDA: 4 rows of 8192 tokens, documents up to 4096 (the tolerance's n);
    # the CPU: small enough for seconds.
    defaults = dict(batch=4, seqlen=8192, heads=8, head_dim=64, max_doc=4096) if cuda \
        else dict(batch=3, seqlen=384, heads=2, head_dim=32, max_doc=160)
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.device = "cuda" if cuda else "cpu"
    return args


def choose_backend(args, local_world):
    if args.backend != "auto":
        return args.backend
    if args.device == "cuda" and torch.cuda.device_count() >= local_world:
        return "nccl"
    return "gloo"


def spawn(nproc):
    """`nproc` local ranks with torchrun's variables and a file rendezvous
    (no port to race other jobs for); the worst exit status."""
    argv = [a for i, a in enumerate(sys.argv[1:])
            if a != "--nproc" and sys.argv[i] != "--nproc" and not a.startswith("--nproc=")]
    with tempfile.TemporaryDirectory(prefix="cp_attention-") as rendezvous:
        ranks = [subprocess.Popen(
            [sys.executable, os.path.abspath(__file__)] + argv,
            env=dict(os.environ, RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(nproc),
                     LOCAL_WORLD_SIZE=str(nproc),
                     CP_ATTENTION_INIT=f"file://{rendezvous}/store"))
            for r in range(nproc)]
        return max(rank.wait() for rank in ranks)


def main():
    args = parse_args()
    if args.nproc and "RANK" not in os.environ:
        return spawn(args.nproc)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    if args.device == "cuda":
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}.get(
        args.dtype, torch.bfloat16 if device.type == "cuda" else torch.float32)
    backend = choose_backend(args, local_world)
    init = dict(init_method=os.environ["CP_ATTENTION_INIT"], rank=rank, world_size=world) \
        if "CP_ATTENTION_INIT" in os.environ else {}
    if backend == "nccl":
        init["device_id"] = device
    dist.init_process_group(backend, **init)
    global _nccl_device
    _nccl_device = device if backend == "nccl" else None
    cp = world
    checks = Checks()

    mask, q, k, v = make_batch(args, dtype)
    # The same batch on every rank (a seeding mistake would compare nothing).
    fingerprint = torch.tensor([float(mask.sum()), float(q.double().sum()),
                                float(v.double().sum())], dtype=torch.float64)
    for other, theirs in enumerate(all_gather(fingerprint)):
        if not torch.equal(theirs, fingerprint):
            checks.failures.append(f"rank {other} made another batch")
    mask, q, k, v = (t.to(device) for t in (mask, q, k, v))

    # packjit's sharding (checked against the test's reference).
    indices, cu_seqlens, seq_idx, position_ids, cu_padded = \
        packjit_metadata(mask, 2 * cp, checks)
    local_indices, cu_local, _ = packjit_partition(cu_padded, cp, rank, checks)
    cu_padded_host = cu_padded.cpu()
    seqlens = cu_seqlens.cpu().diff()
    nnz, total_padded = int(cu_seqlens[-1]), int(cu_padded_host[-1])
    # Each real token's slot in the padded THD buffer.
    padded_slot = cu_padded.long()[seq_idx.long()] + position_ids.long()

    def to_padded(x):  # [B, S, H, D] -> the padded THD buffer, zero padding
        flat = x.reshape(-1, *x.shape[2:])
        buffer = torch.zeros(total_padded, *x.shape[2:], dtype=x.dtype, device=device)
        buffer[padded_slot] = flat[indices.long()]
        return buffer

    q_pad, k_pad, v_pad = to_padded(q), to_padded(k), to_padded(v)
    q_local = q_pad[local_indices]
    k_local, v_local = k_pad[local_indices], v_pad[local_indices]
    del k_pad, v_pad  # from here on the rank knows only its shard

    # Disjoint shards that cover every slot, so every real token, once.
    all_indices = all_gather(local_indices.long())
    counts = torch.bincount(torch.cat(all_indices).cpu(), minlength=total_padded)
    if counts.numel() != total_padded or not bool((counts == 1).all()):
        checks.failures.append(f"shards not disjoint or not covering: slot counts "
                               f"{torch.unique(counts).tolist()}, {counts.numel()} slots")
    real_tokens_per_rank = [int((torch.isin(idx.cpu(), padded_slot.cpu())).sum())
                            for idx in all_indices]
    if sum(real_tokens_per_rank) != nnz:
        checks.failures.append(f"real tokens in the shards {real_tokens_per_rank} "
                               f"sum to {sum(real_tokens_per_rank)}, not {nnz}")

    # The exchange: every rank's K/V shard, put back at their global slots.
    k_full = torch.zeros(total_padded, *k_local.shape[1:], dtype=dtype, device=device)
    v_full = torch.zeros_like(k_full)
    for idx, k_part, v_part in zip(all_indices, all_gather(k_local),
                                   all_gather(v_local)):
        k_full[idx] = k_part
        v_full[idx] = v_part
    out_local = shard_attention(q_local, k_full, v_full, local_indices, cu_local,
                                cu_padded_host, seqlens)

    # Gathered outputs against attention on the whole batch in one process.
    out_pad = torch.zeros_like(q_pad)
    for idx, part in zip(all_indices, all_gather(out_local)):
        out_pad[idx] = part
    gathered = out_pad[padded_slot]
    unpad = lambda x: x.reshape(-1, *x.shape[2:])[indices.long()]  # noqa: E731
    v_unpadded = unpad(v)
    reference = whole_batch_attention(unpad(q), unpad(k), v_unpadded, cu_seqlens.cpu())
    bound = tolerance(reference, v_unpadded, cu_seqlens.cpu(), dtype)
    difference = (gathered.float() - reference.float()).abs()
    worst = float((difference / bound).max())
    if not worst <= 1:  # NaN fails too
        bad = int((~(difference <= bound)).sum())
        checks.failures.append(f"{bad} gathered output elements differ beyond the "
                               f"tolerance (worst {worst:.2f}x, max |diff| "
                               f"{float(difference.max()):.3g})")
    # This rank's own rows against the same reference rows.
    mine = torch.isin(padded_slot, local_indices.long())
    slot_to_row = torch.full((total_padded,), -1, dtype=torch.long, device=device)
    slot_to_row[local_indices.long()] = torch.arange(local_indices.numel(), device=device)
    own = out_local[slot_to_row[padded_slot[mine]]]
    if not bool(((own.float() - reference[mine].float()).abs() <= bound[mine]).all()):
        checks.failures.append("this rank's shard differs from the reference rows")

    # Control: queries one position off must fail the same comparison.
    control = shard_attention(q_local, k_full, v_full, local_indices, cu_local,
                              cu_padded_host, seqlens, position_shift=-1)
    control_diff = (control[slot_to_row[padded_slot[mine]]].float()
                    - reference[mine].float()).abs()
    if not bool((control_diff > bound[mine]).any()):
        checks.failures.append("the off-by-one control passed the tolerance: the "
                               "comparison cannot detect position errors")

    failed = torch.tensor([len(checks.failures)], dtype=torch.int64)
    failed_anywhere = sum(int(t) for t in all_gather(failed))
    status = "ok" if not checks.failures else "FAIL"
    lines = [f"cp_attention rank {rank}/{cp} {status}: {backend} on {device} "
             f"{str(dtype)[6:]}, {nnz} tokens in {len(seqlens)} documents "
             f"({total_padded} padded), {local_indices.numel()} slots here "
             f"({real_tokens_per_rank[rank]} real), max |diff| "
             f"{float(difference.max()):.3g} = {worst:.3f} of the tolerance"]
    lines += [f"cp_attention rank {rank}: FAIL: {failure}" for failure in checks.failures]
    # One write: the ranks share stdout, and print() writes the text and its
    # newline separately, so lines of different ranks could run together.
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()
    dist.destroy_process_group()
    return 1 if failed_anywhere else 0


if __name__ == "__main__":
    sys.exit(main())
