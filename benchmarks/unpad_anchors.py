"""get_unpad_data on CUDA: packjit against its anchors (docs/design.md, docs/benchmarks.md), one run.

Host wall time per call (median after warm-up), every call ending in its
sync, for: the NeMo Automodel / LlamaFactory reference algorithm (our own
implementation), a vectorized PyTorch version, transformers'
``_get_unpad_data`` on the binary mask, ``torch.nonzero`` alone, the floor
(one tiny launch + a 16-byte copy to pinned memory + sync) and packjit when
its CUDA op is available. Then, for packjit: the kernel alone (CUDA events
around back-to-back launches of the sync-free variant) and its bandwidth,
the sync-free variant's host time per call, is_indexed_packed_mask against
torch's (mask > 1).any().item(), and the shape-specialization policies
(PACKJIT_SHAPES=exact|bucket|dynamic, each in a fresh process without the
disk cache: first-call cost of a new sequence length, kernel time).
Prints tables; writes JSON with --json.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from bench_timing import d2d_tbps, floor_call, host_us, kernel_us, time_calls

SHAPES = [(1, 4096), (8, 4096), (16, 8192), (4, 32768), (1, 131072), (64, 65536)]


def packed_mask(batch, seq_len, dtype, device, seed=0):
    """Rows of documents 1, 2, ... of about 512 tokens, 10 % padding at the end."""
    gen = torch.Generator().manual_seed(seed)
    mask = torch.zeros(batch, seq_len, dtype=torch.long)
    used = seq_len - seq_len // 10
    for b in range(batch):
        lengths = torch.randint(1, 1024, (used // 256 + 2,), generator=gen)
        ids = torch.repeat_interleave(torch.arange(1, len(lengths) + 1), lengths)[:used]
        mask[b, :len(ids)] = ids
    return mask.to(dtype).to(device)


def reference(mask):
    """NeMo Automodel / LlamaFactory: per-id counts (3 launches per id)."""
    batch = mask.size(0)
    max_id = int(mask.max().item())
    counts = torch.zeros(batch, max_id, dtype=torch.int32, device=mask.device)
    for i in range(max_id):
        counts[:, i] = torch.sum(mask == (i + 1), dim=-1)
    counts = counts.flatten()
    seqlens = counts[counts.nonzero().squeeze(-1)]
    indices = torch.nonzero(mask.flatten(), as_tuple=False).flatten()
    max_seqlen = seqlens.max().item()
    cu_seqlens = F.pad(torch.cumsum(seqlens, dim=0, dtype=torch.int32), (1, 0))
    return indices, cu_seqlens, max_seqlen


def vectorized(mask):
    """Run boundaries from one nonzero and a shifted compare, no per-id loop."""
    flat = mask.flatten()
    indices = torch.nonzero(flat, as_tuple=False).flatten()
    values = flat[indices]
    rows = indices // mask.size(1)
    starts = torch.ones_like(values, dtype=torch.bool)
    starts[1:] = (values[1:] != values[:-1]) | (rows[1:] != rows[:-1])
    start_pos = torch.nonzero(starts, as_tuple=False).flatten()
    ends = torch.cat([start_pos[1:], start_pos.new_tensor([values.numel()])])
    seqlens = (ends - start_pos).to(torch.int32)
    max_seqlen = seqlens.max().item()
    cu_seqlens = F.pad(torch.cumsum(seqlens, dim=0, dtype=torch.int32), (1, 0))
    return indices, cu_seqlens, max_seqlen


def transformers_binary(get_unpad_data, mask):
    return get_unpad_data(mask != 0)


def packjit_details(device, args):
    """Kernel-only time, bandwidth and the sync-free variant's host time."""
    import packjit  # noqa: F401 - loads the library
    ops = torch.ops.packjit
    print("\npackjit kernel alone (sync-free variant, max_documents=D: no tail fill; "
          "20 calls in a CUDA graph, events) and host time of the sync-free call")
    print(f"{'B x S':<10} {'dtype':<6} {'kernel us':>10} {'GB/s':>8} {'padded host us':>15}")
    rows = []
    for batch, seq_len in SHAPES:
        for dtype in (torch.int64, torch.int32):
            mask = packed_mask(batch, seq_len, dtype, device)
            _, cu, _ = ops.get_unpad_data(mask)
            docs = cu.numel() - 1
            n = mask.numel()
            kernel = kernel_us(lambda: ops.get_unpad_data_padded(mask, True, docs))
            moved = n * mask.element_size() + n * 8 + (docs + 1) * 4
            host = host_us(lambda: ops.get_unpad_data_padded(mask, True, docs))
            row = {"batch": batch, "seq_len": seq_len, "dtype": str(dtype).split(".")[-1],
                   "kernel_us": kernel, "bytes": moved, "gbps": moved / kernel / 1e3,
                   "padded_host_us": host}
            rows.append(row)
            print(f"{batch}x{seq_len:<8} {row['dtype']:<6} {kernel:10.1f} "
                  f"{row['gbps']:8.0f} {host:15.1f}")
    others = {}
    for batch, seq_len in [(8, 4096), (1, 131072), (64, 65536)]:
        mask = packed_mask(batch, seq_len, torch.int64, device)
        others[f"is_indexed_packed_mask {batch}x{seq_len}"] = time_calls(
            lambda: ops.is_indexed_packed_mask(mask), args.repeats)
        others[f"  anchor (mask > 1).any().item() {batch}x{seq_len}"] = time_calls(
            lambda: (mask > 1).any().item(), args.repeats)
    # Results that own their bytes (issue 12): a 64x65536 mask with 600
    # tokens per row keeps only its indices alive, at the price of a copy.
    sparse = torch.zeros(64, 65536, dtype=torch.long, device=device)
    sparse[:, :600] = 1
    indices, cu, _ = ops.get_unpad_data(sparse)
    others["get_unpad_data 64x65536, 600 tokens per row"] = time_calls(
        lambda: ops.get_unpad_data(sparse), args.repeats)
    owned = {"indices_bytes": indices.numel() * 8,
             "indices_storage_bytes": indices.untyped_storage().nbytes(),
             "cu_seqlens_storage_bytes": cu.untyped_storage().nbytes()}
    print(f"sparse 64x65536 (600 tokens per row): indices {owned['indices_bytes']} bytes, "
          f"its storage {owned['indices_storage_bytes']}, cu_seqlens' storage "
          f"{owned['cu_seqlens_storage_bytes']}")
    for name, us in others.items():
        print(f"{name:<45} {us:8.1f} us per call (incl. sync)")
    return {"kernel": rows, "others": others, "owned_bytes": owned}


POLICY_SHAPES = [(8, 4096), (8, 4095), (4, 32768), (4, 32767), (1, 131072), (64, 65536),
                 (64, 65535)]


def shape_policy_child():
    """In a fresh process (PACKJIT_SHAPES, PACKJIT_SCAN_CHUNK, PACKJIT_CACHE=off
    set by the parent): the first call at each new sequence length, then the
    kernel's time and a whole get_unpad_data call."""
    import packjit  # noqa: F401
    ops = torch.ops.packjit
    device = torch.device("cuda")
    ops.get_unpad_data(torch.ones(1, 2, dtype=torch.long, device=device))  # JIT warm
    out = []
    for batch, seq_len in POLICY_SHAPES:
        mask = packed_mask(batch, seq_len, torch.int64, device)
        torch.cuda.synchronize()
        start = time.perf_counter()
        ops.get_unpad_data(mask)
        first = (time.perf_counter() - start) * 1e6
        _, cu, _ = ops.get_unpad_data(mask)
        docs = cu.numel() - 1
        out.append({"batch": batch, "seq_len": seq_len, "first_call_us": first,
                    "kernel_us": kernel_us(lambda: ops.get_unpad_data_padded(mask, True, docs)),
                    "call_us": time_calls(lambda: ops.get_unpad_data(mask), 100)})
    print(json.dumps(out))


def shape_policies():
    print("\nshape policies (fresh process each, PACKJIT_CACHE=off): first call at a new S "
          "(compile + load when it specializes), kernel us")
    results = {}
    for policy in ("exact", "bucket", "dynamic", "bucket chunk32"):
        env = dict(os.environ, PACKJIT_SHAPES=policy.split()[0], PACKJIT_CACHE="off",
                   PACKJIT_SCAN_CHUNK="32" if "chunk32" in policy else "64")
        proc = subprocess.run([sys.executable, __file__, "--shape-policy-child"], env=env,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{policy}: failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        results[policy] = json.loads(proc.stdout.strip().splitlines()[-1])
    print("int64 masks; per policy: first call us / kernel us / get_unpad_data call us")
    print(f"{'B x S':<10} " + " ".join(f"{p:>24}" for p in results))
    for i, (batch, seq_len) in enumerate(POLICY_SHAPES):
        cells = " ".join(f"{results[p][i]['first_call_us']:9.0f}/{results[p][i]['kernel_us']:6.1f}/"
                         f"{results[p][i]['call_us']:6.1f}" for p in results)
        print(f"{batch}x{seq_len:<8} {cells}")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--no-shape-policies", action="store_true",
                        help="skip the fresh-process shape-policy comparison")
    parser.add_argument("--shape-policy-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.shape_policy_child:
        shape_policy_child()
        return

    device = torch.device("cuda")
    stream = torch.cuda.current_stream()
    floor = floor_call(device)

    try:
        from transformers.modeling_flash_attention_utils import _get_unpad_data as hf
    except Exception:  # noqa: BLE001 - an anchor we can live without
        hf = None
    try:
        import packjit
        packjit.get_unpad_data(torch.ones(1, 2, dtype=torch.long, device=device))
        ours = packjit.get_unpad_data
    except Exception as error:  # noqa: BLE001
        print("packjit CUDA op unavailable:", str(error).splitlines()[0])
        ours = None

    d2d = d2d_tbps(device)

    columns = ["floor", "nonzero", "transformers", "vectorized", "reference", "packjit"]
    print(f"get_unpad_data on {torch.cuda.get_device_name()}, torch {torch.__version__}; "
          f"D2D copy {d2d:.2f} TB/s (read+write)")
    print("median host us per call, each ending in its sync")
    print(f"{'B x S':<10} {'dtype':<6} " + " ".join(f"{c:>12}" for c in columns) + f" {'pj/floor':>9}")
    results = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
               "d2d_tbps": d2d, "rows": []}
    for batch, seq_len in SHAPES:
        for dtype in (torch.int64, torch.int32):
            mask = packed_mask(batch, seq_len, dtype, device)
            row = {"batch": batch, "seq_len": seq_len, "dtype": str(dtype).split(".")[-1]}
            row["floor"] = time_calls(floor, args.repeats)
            row["nonzero"] = time_calls(
                lambda: (torch.nonzero(mask.flatten()), stream.synchronize()), args.repeats)
            if hf is not None:
                row["transformers"] = time_calls(
                    lambda: transformers_binary(hf, mask), args.repeats)
            row["vectorized"] = time_calls(lambda: vectorized(mask), args.repeats)
            row["reference"] = time_calls(lambda: reference(mask), 20, budget=2.0)
            if ours is not None:
                got = ours(mask)
                want = reference(mask)
                assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1]) \
                    and got[2] == want[2], f"packjit mismatch at {batch}x{seq_len}"
                row["packjit"] = time_calls(lambda: ours(mask), args.repeats)
            results["rows"].append(row)
            cells = " ".join(f"{row[c]:12.1f}" if c in row else f"{'-':>12}" for c in columns)
            ratio = f"{row['packjit'] / row['floor']:8.2f}x" if "packjit" in row else f"{'-':>9}"
            print(f"{batch}x{seq_len:<8} {row['dtype']:<6} {cells} {ratio}")
    if ours is not None:
        results["packjit"] = packjit_details(device, args)
        if not args.no_shape_policies:
            results["shape_policies"] = shape_policies()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
