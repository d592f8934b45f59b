"""Plots the GPU host's benchmark JSON (scripts/gpu-host.sh writes it to
<out>/json/) as the PNGs the README shows: packjit against each anchor of the
same run, across sizes.

    scripts/plot-benchmarks.sh DIR   # DIR holds unpad.json, padding.json,
                                     # position_ids.json

Writes docs/plots/get_unpad_data.png, unpad_pad.png and position_ids.png
(or --out).
"""

import argparse
import json
import pathlib

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

# unpad_anchors.py's columns: (key, label), packjit first.
UNPAD_SERIES = [
    ("packjit", "packjit get_unpad_data"),
    ("floor", "floor: 1 launch + 16 B copy + sync"),
    ("nonzero", "torch.nonzero alone"),
    ("transformers", "transformers _get_unpad_data (binary)"),
    ("vectorized", "vectorized PyTorch (indexed)"),
    ("reference", "NeMo / LlamaFactory reference"),
]


def plot_get_unpad_data(unpad, out):
    rows = sorted(
        (r for r in unpad["rows"] if r["dtype"] == "int64"),
        key=lambda r: r["batch"] * r["seq_len"],
    )
    labels = [f"{r['batch']}x{r['seq_len']}" for r in rows]
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for key, label in UNPAD_SERIES:
        style = {"linewidth": 2.5} if key == "packjit" else {"linewidth": 1.2}
        ax.plot(labels, [r[key] for r in rows], marker="o", label=label, **style)
    ax.set_yscale("log")
    ax.set_xlabel("int64 mask, batch x sequence length")
    ax.set_ylabel("host µs per call, its sync included (log)")
    ax.set_title(f"get_unpad_data on {unpad['device']}, torch {unpad['torch']}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "get_unpad_data.png", dpi=110)
    plt.close(fig)


def plot_unpad_pad(padding, out):
    d2d = padding["d2d_bytes_per_s"] / 1e12
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    for ax, op, torch_name in (
        (axes[0], "unpad", "torch index_select"),
        (axes[1], "pad", "torch zeros + index_put_"),
    ):
        rows = sorted(
            (r for r in padding["rows"] if r["op"] == op), key=lambda r: r["mbytes"]
        )
        mbytes = [r["mbytes"] for r in rows]
        ax.plot(mbytes, [r["packjit_tbs"] for r in rows], marker="o",
                linewidth=2.5, label=f"packjit {op}_input")
        ax.plot(mbytes, [r["torch_tbs"] for r in rows], marker="o",
                label=torch_name)
        ax.axhline(d2d, color="gray", linestyle="--",
                   label=f"device-to-device copy {d2d:.2f} TB/s")
        ax.set_xscale("log")
        ax.set_xlabel("MB moved (read + written)")
        ax.set_title(f"{op}_input, bf16")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("TB/s")
    fig.suptitle(f"{padding['device']}, torch {padding['torch']}")
    fig.tight_layout()
    fig.savefig(out / "unpad_pad.png", dpi=110)
    plt.close(fig)


def plot_position_ids(positions, out):
    rows = sorted(positions["rows"], key=lambda r: r["tokens"])
    tokens = [r["tokens"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 4.8))
    ax.plot(tokens, [r["packjit"] for r in rows], marker="o", linewidth=2.5,
            label="packjit cu_seqlens_from_position_ids")
    if all("transformers" in r for r in rows):
        ax.plot(tokens, [r["transformers"] for r in rows], marker="o",
                label="transformers prepare_fa_kwargs_from_position_ids")
    ax.plot(tokens, [r["floor"] for r in rows], marker="o", linewidth=1.2,
            label="floor: 1 launch + 16 B copy + sync")
    ax.plot(tokens, [r["kernel_us"] for r in rows], marker="o", linestyle=":",
            label="packjit kernel alone (sync-free, in a CUDA graph)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("int64 position ids [1, N], N tokens")
    ax.set_ylabel("µs per call (host, its sync included; log)")
    ax.set_title(f"cu_seqlens_from_position_ids on {positions['device']}, "
                 f"torch {positions['torch']}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "position_ids.png", dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_dir", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).parent.parent / "docs/plots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    plot_get_unpad_data(json.loads((args.json_dir / "unpad.json").read_text()),
                        args.out)
    plot_unpad_pad(json.loads((args.json_dir / "padding.json").read_text()),
                   args.out)
    plot_position_ids(json.loads((args.json_dir / "position_ids.json").read_text()),
                      args.out)
    print(f"wrote get_unpad_data.png, unpad_pad.png and position_ids.png to {args.out}")


if __name__ == "__main__":
    main()
