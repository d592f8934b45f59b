"""PackedCollator against transformers' DataCollatorWithFlattening, on the CPU.

The same examples (token-id lists, as a tokenized dataset yields them) go
through both collators with position ids, flash-attention kwargs and
seq_idx (return_flash_attn_kwargs=True, return_seq_idx=True); the outputs
are checked equal first. Prints a table and writes JSON (--json).

    python benchmarks/collator_bench.py [--json out.json] [--repeats 5]
"""

import argparse
import json
import platform
import time

import torch
from transformers import DataCollatorWithFlattening

from packjit.integrations.transformers import PackedCollator

CASES = [  # (examples per batch, mean tokens per example)
    (8, 128), (8, 1024), (32, 512), (64, 256), (16, 4096), (128, 1024),
]


def examples(count, mean_length, seed):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(mean_length // 2, mean_length * 3 // 2 + 1, (count,), generator=g)
    return [{"input_ids": torch.randint(0, 32000, (int(n),), generator=g).tolist()}
            for n in lengths]


def best_ms(collate, batch, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        collate(batch)
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def same(a, b):
    return list(a) == list(b) and all(
        torch.equal(a[k], b[k]) if isinstance(b[k], torch.Tensor) else a[k] == b[k] for k in b)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    kwargs = dict(return_flash_attn_kwargs=True, return_seq_idx=True)
    ours, theirs = PackedCollator(**kwargs), DataCollatorWithFlattening(**kwargs)
    rows = []
    print(f"{'examples':>8} {'tokens':>8} {'transformers ms':>16} {'packjit ms':>11} {'speed-up':>9}")
    for count, mean_length in CASES:
        batch = examples(count, mean_length, seed=count * 7919 + mean_length)
        assert same(ours(batch), theirs(batch)), (count, mean_length)
        tokens = sum(len(e["input_ids"]) for e in batch)
        hf_ms = best_ms(theirs, batch, args.repeats)
        pj_ms = best_ms(ours, batch, args.repeats)
        rows.append({"examples": count, "tokens": tokens, "transformers_ms": hf_ms,
                     "packjit_ms": pj_ms, "speedup": hf_ms / pj_ms})
        print(f"{count:>8} {tokens:>8} {hf_ms:>16.3f} {pj_ms:>11.3f} {hf_ms / pj_ms:>8.1f}x")
    result = {"benchmark": "collator", "torch": torch.__version__,
              "machine": platform.processor() or platform.machine(),
              "threads": torch.get_num_threads(), "repeats": args.repeats, "rows": rows}
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
