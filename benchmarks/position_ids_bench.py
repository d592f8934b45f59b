"""cu_seqlens_from_position_ids on CUDA against transformers' own code, one run.

Position ids as DataCollatorWithFlattening packs them ([1, N], documents of
random lengths, 0-based), N from 4K to 16M tokens. Host wall time per call
(median after warm-up), every call ending in its sync, for: the floor (one
tiny launch + a 16-byte copy to pinned memory + sync), transformers'
``prepare_fa_kwargs_from_position_ids`` (nonzero + cat + diff/max) and
packjit's eager op; then packjit's kernel alone (the sync-free variant, 20
calls in a CUDA graph, events) with its bandwidth against a D2D copy's, and
the sync-free call's host time. Prints a table; writes JSON with --json.
"""

import argparse
import json
import torch

from bench_timing import d2d_tbps, floor_call, host_us, kernel_us, time_calls

SIZES = [4096, 32768, 65536, 262144, 1 << 20, 1 << 22, 1 << 24]


def flattened_position_ids(n, device, mean_doc=2000, seed=0):
    """[1, n] int64: 0..L-1 for consecutive documents of random lengths."""
    g = torch.Generator().manual_seed(seed)
    lengths, total = [], 0
    while total < n:
        length = min(int(torch.randint(1, 2 * mean_doc, (1,), generator=g)), n - total)
        lengths.append(length)
        total += length
    lengths = torch.tensor(lengths)
    starts = torch.cumsum(lengths, 0) - lengths
    positions = torch.arange(n) - torch.repeat_interleave(starts, lengths)
    return positions.view(1, n).to(device)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()

    import packjit
    try:
        from transformers.modeling_flash_attention_utils import (
            prepare_fa_kwargs_from_position_ids as hf)
    except ImportError:  # an older transformers: the anchor is missing
        hf = None

    device = torch.device("cuda")
    stream = torch.cuda.current_stream()
    floor = floor_call(device)

    d2d = d2d_tbps(device)

    print(f"cu_seqlens_from_position_ids on {torch.cuda.get_device_name()}, torch "
          f"{torch.__version__}; D2D copy {d2d:.2f} TB/s (read+write)")
    print("host us per call ending in its sync; kernel: the sync-free variant in a CUDA graph")
    print(f"{'tokens':>9} {'docs':>6} {'floor':>7} {'transformers':>13} {'packjit':>8} "
          f"{'pj/floor':>8} {'pj/hf':>6} {'kernel us':>9} {'GB/s':>7} {'%D2D':>5} "
          f"{'padded host':>11}")
    rows = []
    for n in SIZES:
        positions = flattened_position_ids(n, device)
        cu, longest = packjit.cu_seqlens_from_position_ids(positions)
        want_cu, want_max = packjit.cu_seqlens_from_position_ids(positions.cpu())
        assert torch.equal(cu.cpu(), want_cu) and longest == want_max, f"mismatch at {n}"
        docs = cu.numel() - 1
        row = {"tokens": n, "docs": docs}
        row["floor"] = time_calls(floor, args.repeats)
        if hf is not None:
            (hf_cu, _), (hf_max, _) = hf(positions)
            assert torch.equal(cu, hf_cu) and longest == int(hf_max), f"hf mismatch at {n}"
            row["transformers"] = time_calls(lambda: (hf(positions), stream.synchronize()),
                                             args.repeats)
        row["packjit"] = time_calls(lambda: packjit.cu_seqlens_from_position_ids(positions),
                                    args.repeats)
        padded = lambda: packjit.cu_seqlens_from_position_ids_padded(positions, True, docs)  # noqa: E731
        row["kernel_us"] = kernel_us(padded)
        moved = n * positions.element_size() + (docs + 1) * 4
        row["gbps"] = moved / row["kernel_us"] / 1e3
        row["d2d_fraction"] = row["gbps"] / (d2d * 1e3)
        row["padded_host_us"] = host_us(padded)
        rows.append(row)
        hf_us = row.get("transformers", float("nan"))
        print(f"{n:9d} {docs:6d} {row['floor']:7.1f} {hf_us:13.1f} "
              f"{row['packjit']:8.1f} {row['packjit'] / row['floor']:7.2f}x "
              f"{hf_us / row['packjit']:5.1f}x {row['kernel_us']:9.1f} "
              f"{row['gbps']:7.0f} {100 * row['d2d_fraction']:4.0f}% "
              f"{row['padded_host_us']:11.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                       "d2d_tbps": d2d, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
