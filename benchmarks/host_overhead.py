"""Where the host time of a packjit CUDA op goes (GPU host, one run).

Median host time per single call, without a sync unless the row says so,
of: PyTorch's own calls (a tensor method, the same op through torch.ops, an
allocation), packjit's sync-free op through the torch.ops packet, its
overload and the Python wrapper, and get_unpad_data against the floor. The
difference between rows is the cost of one layer (Python binding, boxed
dispatch, the op's own C++). Prints a table; writes JSON with --json.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unpad_anchors as anchors  # noqa: E402
from unpad_anchors import packed_mask  # noqa: E402


def host_us(fn, calls=2000):
    return anchors.host_us(fn, calls, warmup=50, drain_every=64)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json")
    args = parser.parse_args()
    import packjit
    ops = torch.ops.packjit
    device = torch.device("cuda")
    tiny = torch.zeros(4, dtype=torch.long, device=device)
    pinned = torch.empty(4, dtype=torch.long, pin_memory=True)
    stream = torch.cuda.current_stream()

    def floor():
        tiny.add_(1)
        pinned.copy_(tiny, non_blocking=True)
        stream.synchronize()

    rows = {}
    rows["tensor.add_(1)"] = host_us(lambda: tiny.add_(1))
    rows["torch.ops.aten.add_.Scalar"] = host_us(lambda: torch.ops.aten.add_.Scalar(tiny, 1))
    rows["torch.empty(1 MB) on cuda"] = host_us(
        lambda: torch.empty(1 << 17, dtype=torch.long, device=device))
    rows["stream.synchronize() (idle)"] = host_us(stream.synchronize)
    rows["floor (add_, copy_, sync)"] = host_us(floor)
    for batch, seq_len in [(1, 4096), (8, 4096), (64, 65536)]:
        mask = packed_mask(batch, seq_len, torch.long, device)
        shape = f"{batch}x{seq_len}"
        rows[f"{shape} ops.get_unpad_data_padded (packet)"] = host_us(
            lambda: ops.get_unpad_data_padded(mask, True, -1))
        rows[f"{shape} ops.get_unpad_data_padded.default"] = host_us(
            lambda: ops.get_unpad_data_padded.default(mask, True, -1))
        rows[f"{shape} packjit.get_unpad_data_padded"] = host_us(
            lambda: packjit.get_unpad_data_padded(mask))
        rows[f"{shape} ops.get_unpad_data (sync)"] = host_us(
            lambda: ops.get_unpad_data(mask, True))
        rows[f"{shape} ops.get_unpad_data.default (sync)"] = host_us(
            lambda: ops.get_unpad_data.default(mask, True))
    print(f"host time per call, {torch.cuda.get_device_name()}, torch {torch.__version__}")
    for name, us in rows.items():
        print(f"  {name:<52} {us:8.2f} us")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
