"""context_parallel_partition against the same work in plain torch, one run.

Padded THD boundaries (documents of random lengths around --mean-doc tokens,
each padded to a multiple of 2*cp_size), 8K to 1M tokens. Host wall time per
call, every call ending with its results usable on the host (its sync), for:
plain torch, vectorised (one sync for the token count, the longest share and
the length check, then searchsorted and a few elementwise kernels), and
packjit's eager op (one sync); on CUDA also the sync-free
context_parallel_partition_padded: its host time and its GPU time (20 calls
in a CUDA graph, events). Both answers are checked equal before timing.
Prints a table; writes JSON with --json. --device cpu runs the same on the
CPU (a smoke test: the GPU host's numbers are the ones that count).
"""

import argparse
import json

import torch

from bench_timing import time_calls

SIZES = [8192, 32768, 131072, 524288, 1 << 20]


def padded_boundaries(tokens, cp_size, mean_doc, device, seed=0):
    """int32 cu_seqlens_padded with documents of random lengths (1..2*mean_doc)
    each rounded up to a multiple of 2*cp_size, about `tokens` in all."""
    g = torch.Generator().manual_seed(seed)
    multiple = 2 * cp_size
    lengths = []
    total = 0
    while total < tokens:
        length = int(torch.randint(1, 2 * mean_doc, (1,), generator=g))
        length = (length + multiple - 1) // multiple * multiple
        lengths.append(length)
        total += length
    cu = torch.zeros(len(lengths) + 1, dtype=torch.int32)
    cu[1:] = torch.cumsum(torch.tensor(lengths), 0)
    return cu.to(device)


def torch_partition(cu, cp_size, cp_rank):
    """TransformerEngine's rule in plain vectorised torch (no loop per
    document): one sync for the sizes and the check, then per token its
    document by searchsorted and its position by elementwise arithmetic."""
    cu = cu.long()
    lengths = cu[1:] - cu[:-1]
    chunk = lengths // (2 * cp_size)
    bad = ((lengths % (2 * cp_size)) != 0).any() | (lengths < 0).any()
    longest = (lengths // cp_size).max() if lengths.numel() else cu.new_zeros(())
    total, max_local, invalid = torch.stack([cu[-1], longest, bad.long()]).tolist()
    if invalid:
        raise RuntimeError("a padded length is not a multiple of 2*cp_size")
    local = cu // cp_size
    t = torch.arange(total // cp_size, device=cu.device)
    doc = torch.searchsorted(local[1:], t, right=True)
    j = t - local[doc]
    c = chunk[doc]
    which = torch.where(j < c, torch.full_like(j, cp_rank),
                        torch.full_like(j, 2 * cp_size - 2 - cp_rank))
    return cu[doc] + which * c + j, local.int(), max_local


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--cp-size", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--mean-doc", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    args = parser.parse_args()

    import packjit
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        from bench_timing import kernel_us, wait_for_specialized_kernels
    name = torch.cuda.get_device_name() if cuda else "CPU"
    print(f"context_parallel_partition on {name}, torch {torch.__version__}; host us per "
          "call ending in its sync" + ("; kernel: the sync-free form in a CUDA graph"
                                       if cuda else ""))
    print(f"{'tokens':>8} {'docs':>5} {'cp':>3} {'torch':>8} {'packjit':>8} {'speedup':>7}"
          + (f" {'padded host':>11} {'kernel us':>9}" if cuda else ""))
    rows = []
    for cp_size in args.cp_size:
        rank = cp_size - 1
        for tokens in args.sizes:
            cu = padded_boundaries(tokens, cp_size, args.mean_doc, device)
            total = int(cu[-1])
            mine = packjit.context_parallel_partition(cu, cp_size, rank)
            theirs = torch_partition(cu, cp_size, rank)
            assert torch.equal(mine[0], theirs[0]) and torch.equal(mine[1], theirs[1])
            assert mine[2] == theirs[2]
            if cuda:
                wait_for_specialized_kernels()

            def eager():
                return packjit.context_parallel_partition(cu, cp_size, rank)

            def plain():
                return torch_partition(cu, cp_size, rank)

            def padded():
                return packjit.context_parallel_partition_padded(cu, cp_size, rank, total)

            row = {"tokens": total, "documents": cu.numel() - 1, "cp_size": cp_size,
                   "cp_rank": rank,
                   "torch_us": time_calls(plain, args.repeats),
                   "packjit_us": time_calls(eager, args.repeats)}
            if cuda:
                row["padded_host_us"] = time_calls(padded, args.repeats)
                row["padded_kernel_us"] = kernel_us(padded)
            rows.append(row)
            line = (f"{total:>8} {row['documents']:>5} {cp_size:>3} {row['torch_us']:>8.1f} "
                    f"{row['packjit_us']:>8.1f} {row['torch_us'] / row['packjit_us']:>6.1f}x")
            if cuda:
                line += f" {row['padded_host_us']:>11.1f} {row['padded_kernel_us']:>9.2f}"
            print(line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": name, "torch": torch.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
