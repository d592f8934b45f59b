"""unpad_input / pad_input on CUDA: packjit against torch, one run.

At B x S x H x D in bf16 (rows of H*D elements, each row about 60 % used:
random right padding), measures with CUDA events (median of repetitions):
  unpad   packjit.unpad_input       vs hidden.flatten(0, 1).index_select(0, indices)
  pad     packjit.pad_input         vs zeros + index_put_
  unpad3  packjit.unpad_inputs(qkv) vs three index_select calls
  qkv3    the same on q, k, v views of one packed [B, S, 3, H, D] tensor
  pad/scatter, pad/gather  pad_input with each strategy forced
                           (PACKJIT_PAD_INPUT), against the same torch time
and a device-to-device copy of 1 GiB in the same run. Bandwidth counts the
bytes an ideal kernel moves (unpad: nnz rows read + written; pad: nnz rows
read, B*S rows written) and is reported as a fraction of the D2D copy's.
Prints a table (markdown with --markdown); writes JSON with --json.
"""

import argparse
import json
import os
import statistics

import torch

import packjit

SHAPES = [(1, 4096, 8, 128), (4, 4096, 8, 128), (8, 4096, 32, 128), (16, 8192, 32, 128),
          (64, 8192, 32, 128)]


def time_ms(fn, min_total_ms=50.0, reps=7):
    """Median milliseconds per call of fn over `reps` timed batches."""
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    iters = max(1, min(200, int(min_total_ms / max(start.elapsed_time(end), 1e-3))))
    samples = []
    for _ in range(reps):
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) / iters)
    return statistics.median(samples)


def d2d_bandwidth():
    """Bytes read + written per second by a 1 GiB device-to-device copy."""
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    ms = time_ms(lambda: dst.copy_(src))
    return 2 * src.numel() / (ms * 1e-3)


def random_indices(batch, seqlen, gen):
    """Rows of 20..100 % tokens then padding, as get_unpad_data's indices."""
    lengths = torch.randint(seqlen // 5, seqlen + 1, (batch,), generator=gen)
    mask = (torch.arange(seqlen)[None, :] < lengths[:, None]).to(torch.int32)
    return packjit.get_unpad_data(mask)[0].cuda()


def torch_pad(x, indices, batch, seqlen):
    out = torch.zeros((batch * seqlen,) + x.shape[1:], dtype=x.dtype, device=x.device)
    out.index_put_((indices,), x)
    return out.view((batch, seqlen) + x.shape[1:])


def bench_shape(shape, d2d, gen):
    batch, seqlen, heads, dim = shape
    indices = random_indices(batch, seqlen, gen)
    nnz = indices.numel()
    row_bytes = heads * dim * 2
    hidden = torch.randn(batch, seqlen, heads, dim, device="cuda", dtype=torch.bfloat16)
    unpadded = packjit.unpad_input(hidden, indices)
    assert torch.equal(unpadded, hidden.flatten(0, 1).index_select(0, indices))
    assert torch.equal(packjit.pad_input(unpadded, indices, batch, seqlen),
                       torch_pad(unpadded, indices, batch, seqlen))
    rows = []

    def add(op, bytes_moved, ours, theirs):
        """`theirs`: torch's function, or its time in ms when already measured."""
        ms_ours = time_ms(ours)
        ms_torch = theirs if isinstance(theirs, float) else time_ms(theirs)
        bw = bytes_moved / (ms_ours * 1e-3)
        rows.append({"op": op, "shape": "x".join(map(str, shape)), "nnz": nnz,
                     "mbytes": bytes_moved / 1e6, "packjit_us": ms_ours * 1e3,
                     "torch_us": ms_torch * 1e3, "packjit_tbs": bw / 1e12,
                     "torch_tbs": bytes_moved / (ms_torch * 1e-3) / 1e12,
                     "of_d2d": bw / d2d, "speedup": ms_torch / ms_ours})

    flat = hidden.flatten(0, 1)
    add("unpad", 2 * nnz * row_bytes, lambda: packjit.unpad_input(hidden, indices),
        lambda: flat.index_select(0, indices))
    add("pad", (nnz + batch * seqlen) * row_bytes,
        lambda: packjit.pad_input(unpadded, indices, batch, seqlen),
        lambda: torch_pad(unpadded, indices, batch, seqlen))
    for strategy in ("scatter", "gather"):
        os.environ["PACKJIT_PAD_INPUT"] = strategy  # read by pad_input on every call
        try:
            assert torch.equal(packjit.pad_input(unpadded, indices, batch, seqlen),
                               torch_pad(unpadded, indices, batch, seqlen))
            add("pad/" + strategy, (nnz + batch * seqlen) * row_bytes,
                lambda: packjit.pad_input(unpadded, indices, batch, seqlen),
                rows[1]["torch_us"] / 1e3)
        finally:
            del os.environ["PACKJIT_PAD_INPUT"]
    del unpadded
    if batch * seqlen * row_bytes * 3 * 2 < torch.cuda.mem_get_info()[0] * 0.8:
        qkv = [hidden] + [torch.randn_like(hidden) for _ in range(2)]
        flats = [t.flatten(0, 1) for t in qkv]
        add("unpad3", 3 * 2 * nnz * row_bytes, lambda: packjit.unpad_inputs(qkv, indices),
            lambda: [f.index_select(0, indices) for f in flats])
        del qkv, flats
    del hidden, flat
    torch.cuda.empty_cache()
    if batch * seqlen * row_bytes * 3 * 2 < torch.cuda.mem_get_info()[0] * 0.8:
        packed = torch.randn(batch, seqlen, 3, heads, dim, device="cuda", dtype=torch.bfloat16)
        views = packed.unbind(2)
        got = packjit.unpad_inputs(views, indices)
        assert all(torch.equal(g, v.flatten(0, 1).index_select(0, indices))
                   for g, v in zip(got, views))
        del got
        flats = [v.flatten(0, 1) for v in views]
        add("qkv3", 3 * 2 * nnz * row_bytes, lambda: packjit.unpad_inputs(views, indices),
            lambda: [f.index_select(0, indices) for f in flats])
        del packed, views, flats
    torch.cuda.empty_cache()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    d2d = d2d_bandwidth()
    gen = torch.Generator().manual_seed(0)
    rows = []
    for shape in SHAPES:
        rows.extend(bench_shape(shape, d2d, gen))
    name = torch.cuda.get_device_name()
    print(f"{name}, torch {torch.__version__}, D2D copy {d2d / 1e12:.2f} TB/s (read + write)")
    header = ["op", "B x S x H x D", "nnz", "MB moved", "packjit us", "torch us",
              "packjit TB/s", "of D2D", "vs torch"]
    fmt = "| {} | {} | {} | {:.0f} | {:.1f} | {:.1f} | {:.2f} | {:.0%} | {:.2f}x |"
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
    for r in rows:
        line = fmt.format(r["op"], r["shape"], r["nnz"], r["mbytes"], r["packjit_us"],
                          r["torch_us"], r["packjit_tbs"], r["of_d2d"], r["speedup"])
        print(line if args.markdown else line.strip("| ").replace(" | ", "  "))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": name, "torch": torch.__version__, "d2d_bytes_per_s": d2d,
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
