"""Runs the mask scan alone, for a profiler: get_unpad_data_padded on one mask.

Each --shape BxS calls the sync-free variant --calls times on the packed
masks of unpad_anchors.py (about 512-token documents, 10 % padding), so that
Nsight Compute can pick one launch, e.g.

  ncu --kernel-name regex:mask_scan --launch-skip 3 --launch-count 1 \
      --set full python3 benchmarks/profile_mask_scan.py --shape 64x65536
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unpad_anchors import packed_mask  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", default=[],
                        help="BxS, repeatable (default 64x65536)")
    parser.add_argument("--dtype", default="int64", choices=["int64", "int32"])
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    import packjit  # noqa: F401 - loads the library
    ops = torch.ops.packjit
    dtype = getattr(torch, args.dtype)
    for shape in args.shape or ["64x65536"]:
        batch, seq_len = (int(x) for x in shape.split("x"))
        mask = packed_mask(batch, seq_len, dtype, torch.device("cuda"))
        _, cu, _ = ops.get_unpad_data(mask)
        for _ in range(args.calls):
            ops.get_unpad_data_padded(mask, True, cu.numel() - 1)
        torch.cuda.synchronize()
        print(f"{shape} {args.dtype}: {args.calls} launches of the padded mask scan")


if __name__ == "__main__":
    main()
