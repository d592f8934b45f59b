"""Step time of a packed-attention block, eager against torch.compile(fullgraph=True).

The block is packjit.attention.packed_attention: get_unpad_data ->
unpad_inputs of q, k, v -> varlen attention per document -> pad_input,
forward and backward.
On CUDA the attention is torch's varlen_attn (bf16); on the CPU packjit's
block-diagonal fallback (fp32, small shapes only). Prints a table and,
with --json, writes the numbers.

    python benchmarks/compiled_block.py [--device cuda] [--json out.json]
"""

import argparse
import json
import time

import torch

from packjit.attention import packed_attention


def packed_mask(batch, seqlen, doc_len, device):
    """Documents of doc_len tokens back to back, the last 10 % of each row padding."""
    positions = torch.arange(seqlen, device=device)
    ids = positions // doc_len + 1
    ids[int(seqlen * 0.9):] = 0
    return ids.expand(batch, seqlen).contiguous()


def step_ms(fn, inputs, mask, device, iters):
    def step():
        out = fn(*inputs, mask)
        torch.autograd.grad(out.float().square().sum(), inputs)

    for _ in range(3):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iters * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--json")
    args = parser.parse_args()
    device = args.device
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    shapes = ([(8, 4096, 512), (2, 16384, 1024), (1, 65536, 2048)] if device == "cuda"
              else [(2, 256, 64), (4, 512, 128)])
    heads, dim = (16, 128) if device == "cuda" else (4, 32)
    iters = 20 if device == "cuda" else 5
    compiled = torch.compile(packed_attention, fullgraph=True)
    rows = []
    print(f"packed-attention block, forward + backward, {device}, {dtype}, "
          f"{heads} heads x {dim}; torch {torch.__version__}")
    print(f"{'batch x seqlen':>16} {'doc':>6} {'eager ms':>10} {'compiled ms':>12} {'speed-up':>9}")
    for batch, seqlen, doc_len in shapes:
        mask = packed_mask(batch, seqlen, doc_len, device)
        inputs = [torch.randn(batch, seqlen, heads, dim, device=device, dtype=dtype,
                              requires_grad=True) for _ in range(3)]
        eager = step_ms(packed_attention, inputs, mask, device, iters)
        comp = step_ms(compiled, inputs, mask, device, iters)
        rows.append(dict(batch=batch, seqlen=seqlen, doc_len=doc_len, eager_ms=eager,
                         compiled_ms=comp))
        print(f"{batch:>7} x {seqlen:<6} {doc_len:>6} {eager:>10.3f} {comp:>12.3f} "
              f"{eager / comp:>8.2f}x")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(dict(device=device, dtype=str(dtype), heads=heads, dim=dim,
                           torch=torch.__version__, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
