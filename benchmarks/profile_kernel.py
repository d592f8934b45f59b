"""Runs one packjit scan kernel alone, for a profiler.

--op mask_scan calls get_unpad_data_padded on the packed masks of
unpad_anchors.py (about 512-token documents, 10 % padding); --op
position_ids_scan calls cu_seqlens_from_position_ids_padded on the flattened
position ids of position_ids_bench.py. Each --shape (BxS) runs --calls times,
so that Nsight Compute can pick one launch after the warm-up, e.g.

  ncu --kernel-name regex:position_ids_scan --launch-skip 3 --launch-count 1 \
      --set full python3 benchmarks/profile_kernel.py --op position_ids_scan \
      --shape 1x4194304
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from position_ids_bench import flattened_position_ids  # noqa: E402
from unpad_anchors import packed_mask  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--op", default="mask_scan", choices=["mask_scan", "position_ids_scan"])
    parser.add_argument("--shape", action="append", default=[],
                        help="BxS, repeatable (default 64x65536)")
    parser.add_argument("--dtype", default="int64", choices=["int64", "int32"])
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    import packjit  # noqa: F401 - loads the library
    ops = torch.ops.packjit
    dtype = getattr(torch, args.dtype)
    device = torch.device("cuda")
    for shape in args.shape or ["64x65536"]:
        batch, seq_len = (int(x) for x in shape.split("x"))
        if args.op == "mask_scan":
            mask = packed_mask(batch, seq_len, dtype, device)
            _, cu, _ = ops.get_unpad_data(mask)
            run = lambda: ops.get_unpad_data_padded(mask, True, cu.numel() - 1)  # noqa: E731
        else:
            ids = flattened_position_ids(batch * seq_len, device).view(batch, seq_len).to(dtype)
            cu, _ = packjit.cu_seqlens_from_position_ids(ids)
            run = lambda: packjit.cu_seqlens_from_position_ids_padded(ids, True, cu.numel() - 1)  # noqa: E731
        # The first call may run a generic kernel while the one specialized
        # for this shape compiles in the background: wait for the swap.
        run()
        packjit.wait_for_background_compiles()
        for _ in range(args.calls):
            run()
        torch.cuda.synchronize()
        print(f"{args.op} {shape} {args.dtype}: {args.calls} launches")


if __name__ == "__main__":
    main()
