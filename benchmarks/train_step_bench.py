"""A packed training step on CUDA: packjit's path against transformers' own.

1. Correctness in bf16: a tiny random Llama (2 layers, hidden 64, GQA) with
   attn_implementation="packjit_varlen" fed PackedCollator's batch gives each
   document's logits and the gradients of the summed loss within
   LOGITS_TOLERANCE / GRAD_TOLERANCE (max-abs relative; bf16 keeps 8 bits of
   mantissa) of running each document alone with transformers' sdpa.
2. Zero host syncs: that forward and backward run under
   torch.cuda.set_sync_debug_mode("error") with the collator's batch
   (metadata computed in the data loader, moved to the GPU beforehand).
3. The time of a training step (zero_grad, forward, loss, backward, AdamW
   step; CUDA events, median) for each model preset:
   - packjit: PackedCollator(return_flash_attn_kwargs=True) + packjit_varlen;
   - transformers: DataCollatorWithFlattening() (position ids only) +
     transformers' position-ids preprocessing + "flash_attention_2" when
     flash-attn is installed, else "sdpa" (transformers then builds a 4-D
     block-causal mask from the packed position ids; the output says which).
   The collators' CPU time per batch is reported beside it.

    python benchmarks/train_step_bench.py [--json out.json] [--steps 20]

Exits 77 without CUDA.
"""

import argparse
import importlib.util
import json
import statistics
import sys
import time

import torch

LOGITS_TOLERANCE = 2e-2
GRAD_TOLERANCE = 5e-2
PRESETS = {  # LlamaConfig arguments
    "tiny": dict(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2),
    "small": dict(vocab_size=32000, hidden_size=1024, intermediate_size=2816,
                  num_hidden_layers=8, num_attention_heads=16, num_key_value_heads=4),
}


def make_model(preset, attn_implementation, seed=0):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(max_position_embeddings=8192, **PRESETS[preset])
    torch.manual_seed(seed)
    model = LlamaForCausalLM._from_config(config, attn_implementation=attn_implementation,
                                          dtype=torch.float32)
    return model.to(device="cuda", dtype=torch.bfloat16)


def documents(count, mean_length, vocab, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(mean_length // 2, mean_length * 3 // 2 + 1, (count,), generator=g)
    return [{"input_ids": torch.randint(1, vocab, (int(n),), generator=g).tolist()}
            for n in lengths]


def to_cuda(batch):
    return {k: v.pin_memory().to("cuda", non_blocking=True) if isinstance(v, torch.Tensor) else v
            for k, v in batch.items()}


def summed_loss(logits, labels):
    """Causal-LM loss summed over tokens; computed here (not by the model)
    so that nothing in it depends on a host value."""
    return torch.nn.functional.cross_entropy(logits[0, :-1].float(), labels[0, 1:],
                                             ignore_index=-100, reduction="sum")


def relative_error(actual, expected):
    actual, expected = actual.detach().float(), expected.detach().float()
    return float((actual - expected).abs().max() / expected.abs().max())


def correctness(collator_cls):
    model = make_model("tiny", "packjit_varlen")
    reference = make_model("tiny", "sdpa")
    reference.load_state_dict(model.state_dict())
    examples = documents(6, 40, 128, seed=1)
    batch = to_cuda(collator_cls(return_flash_attn_kwargs=True)(examples))
    labels = batch.pop("labels")
    out = model(**batch)
    summed_loss(out.logits, labels).backward()
    cu = batch["cu_seq_lens_q"].tolist()
    logits_error, ref_grads = 0.0, {}
    for d, example in enumerate(examples):
        ids = torch.tensor([example["input_ids"]], device="cuda")
        alone = reference(input_ids=ids)
        summed_loss(alone.logits, ids).backward()
        logits_error = max(logits_error,
                           relative_error(out.logits[0, cu[d]:cu[d + 1]], alone.logits[0]))
    grads = dict(model.named_parameters())
    grad_error = max(relative_error(grads[n].grad, p.grad)
                     for n, p in reference.named_parameters())
    return {"logits_relative_error": logits_error, "grad_relative_error": grad_error,
            "logits_tolerance": LOGITS_TOLERANCE, "grad_tolerance": GRAD_TOLERANCE,
            "passed": logits_error <= LOGITS_TOLERANCE and grad_error <= GRAD_TOLERANCE}


def _syncs_in_step(model, batch, labels):
    """0, or where forward+backward first synchronized with the host."""
    for _ in range(2):  # warm-up: first calls may initialise (cuBLAS, ...)
        summed_loss(model(**batch).logits, labels).backward()
    torch.cuda.synchronize()
    phase = "forward"
    try:
        torch.cuda.set_sync_debug_mode("error")
        loss = summed_loss(model(**batch).logits, labels)
        phase = "backward"
        loss.backward()
        return 0
    except RuntimeError as error:
        return f"synced in {phase}: {str(error).splitlines()[0]}"
    finally:
        torch.cuda.set_sync_debug_mode("default")


def sync_free(collator_cls):
    """Forward and backward under set_sync_debug_mode("error"). A control
    run of transformers' sdpa on an unpacked batch tells whether a sync
    comes from the model itself; if the packed run syncs, it is repeated with
    the token embedding frozen (torch's embedding backward is a suspect)."""
    result = {}
    examples = documents(6, 40, 128, seed=2)
    packed = to_cuda(collator_cls(return_flash_attn_kwargs=True)(examples))
    packed_labels = packed.pop("labels")
    ids = torch.tensor([examples[0]["input_ids"]])
    plain = to_cuda({"input_ids": ids})
    result["packjit_varlen"] = {"host_syncs": _syncs_in_step(
        make_model("tiny", "packjit_varlen"), packed, packed_labels)}
    result["control_sdpa_unpacked"] = {"host_syncs": _syncs_in_step(
        make_model("tiny", "sdpa"), plain, plain["input_ids"])}
    if result["packjit_varlen"]["host_syncs"] != 0:
        model = make_model("tiny", "packjit_varlen")
        model.get_input_embeddings().weight.requires_grad_(False)
        result["packjit_varlen_frozen_embedding"] = {
            "host_syncs": _syncs_in_step(model, packed, packed_labels)}
    result["passed"] = result["packjit_varlen"]["host_syncs"] == 0
    return result


def step_ms(model, batch, labels, steps):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        optimizer.zero_grad(set_to_none=True)
        summed_loss(model(**batch).logits, labels).backward()
        optimizer.step()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    samples = []
    for _ in range(steps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    return statistics.median(samples)


def collate_ms(collator, examples, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        collator(examples)
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def timing(collator_cls, steps):
    from transformers import DataCollatorWithFlattening

    has_flash_attn = importlib.util.find_spec("flash_attn") is not None
    theirs_attn = "flash_attention_2" if has_flash_attn else "sdpa"
    rows = []
    for preset, count, mean_length in (("tiny", 16, 256), ("small", 16, 512), ("small", 8, 2048)):
        vocab = PRESETS[preset]["vocab_size"]
        examples = documents(count, mean_length, vocab, seed=3)
        ours_collator = collator_cls(return_flash_attn_kwargs=True)
        theirs_collator = DataCollatorWithFlattening()
        row = {"preset": preset, "documents": count,
               "tokens": sum(len(e["input_ids"]) for e in examples),
               "transformers_attention": theirs_attn}
        for name, collator, attn in (("packjit", ours_collator, "packjit_varlen"),
                                     ("transformers", theirs_collator, theirs_attn)):
            batch = to_cuda(collator(examples))
            labels = batch.pop("labels")
            model = make_model(preset, attn)
            row[f"{name}_step_ms"] = step_ms(model, batch, labels, steps)
            row[f"{name}_collate_ms"] = collate_ms(collator, examples)
            del model
            torch.cuda.empty_cache()
        row["speedup"] = row["transformers_step_ms"] / row["packjit_step_ms"]
        rows.append(row)
    return {"flash_attn_installed": has_flash_attn, "rows": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("train_step_bench: skipped, no CUDA device")
        sys.exit(77)
    from packjit import attention
    from packjit.integrations.transformers import PackedCollator, register_attention

    register_attention()
    result = {"benchmark": "train_step", "device": torch.cuda.get_device_name(),
              "torch": torch.__version__, "varlen_backend": attention.cuda_backend()}
    import transformers
    result["transformers"] = transformers.__version__
    result["correctness_bf16"] = correctness(PackedCollator)
    result["sync_free"] = sync_free(PackedCollator)
    result["timing"] = timing(PackedCollator, args.steps)

    c, s = result["correctness_bf16"], result["sync_free"]
    print(f"device {result['device']}, torch {result['torch']}, transformers "
          f"{result['transformers']}, packjit varlen backend: {result['varlen_backend']}")
    print(f"bf16 vs each document alone: logits {c['logits_relative_error']:.2e} "
          f"(<= {LOGITS_TOLERANCE}), grads {c['grad_relative_error']:.2e} (<= {GRAD_TOLERANCE}): "
          f"{'PASS' if c['passed'] else 'FAIL'}")
    print(f"host syncs in forward+backward: packjit {s['packjit_varlen']['host_syncs']}, "
          f"control (sdpa, unpacked) {s['control_sdpa_unpacked']['host_syncs']}")
    t = result["timing"]
    print(f"transformers' path: DataCollatorWithFlattening + position-ids preprocessing + "
          f"{t['rows'][0]['transformers_attention']}"
          f"{'' if t['flash_attn_installed'] else ' (flash-attn is not installed here)'}")
    print(f"{'preset':>6} {'docs':>5} {'tokens':>7} {'packjit ms':>11} {'transformers ms':>16} "
          f"{'speed-up':>9} {'collate pj/hf ms':>18}")
    for row in t["rows"]:
        print(f"{row['preset']:>6} {row['documents']:>5} {row['tokens']:>7} "
              f"{row['packjit_step_ms']:>11.2f} {row['transformers_step_ms']:>16.2f} "
              f"{row['speedup']:>8.2f}x {row['packjit_collate_ms']:>8.2f}/"
              f"{row['transformers_collate_ms']:<8.2f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)
    print(json.dumps(result))
    sys.exit(0 if c["passed"] and s["passed"] else 1)


if __name__ == "__main__":
    main()
