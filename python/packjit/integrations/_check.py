"""``check``: proves, through ``model.forward``, that packjit's document
boundaries reached the attention and kept packed documents apart."""

import torch

from . import _probe
from ._collator import PackedCollator
from ._hf_attention import DEFAULT_NAME, register_attention

# Mask-based entry points: what an indexed attention mask must reach.
_MASK_ENTRY_POINTS = ("packjit_varlen:attention_mask", "_get_unpad_data")
ROUTES = ("collator", "indexed_mask")


class PackingCheckError(RuntimeError):
    """Packed documents did not reach the attention through packjit."""


def tiny_llama(attn_implementation: str = DEFAULT_NAME, dtype=torch.float32, device="cpu",
               seed: int = 0):
    """A randomly initialised ``LlamaForCausalLM`` (2 layers, hidden 64, 4
    query and 2 key/value heads, vocabulary 128; no download), in eval mode.
    ``packjit_varlen`` is registered first when asked for."""
    from transformers import LlamaConfig, LlamaForCausalLM

    if attn_implementation == DEFAULT_NAME:
        register_attention()
    config = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM._from_config(config, attn_implementation=attn_implementation,
                                              dtype=torch.float32)
    return model.to(device=device, dtype=dtype).eval()


def _logits(output):
    for name in ("logits", "last_hidden_state"):
        value = getattr(output, name, None)
        if value is not None:
            return value
    return output[0]


def _relative_error(actual, expected):
    scale = expected.abs().max().clamp_min(torch.finfo(expected.dtype).tiny)
    return float((actual.float() - expected.float()).abs().max() / scale.float())


def check(model=None, routes=ROUTES, lengths=(5, 3, 7, 4), tolerance=None):
    """Runs a tiny packed batch through ``model.forward`` (a :func:`tiny_llama`
    with ``attn_implementation="packjit_varlen"`` when ``model`` is None) and
    raises :class:`PackingCheckError` unless packjit's boundaries reached the
    attention. Documents of ``lengths`` random tokens go through each route:

    - ``"collator"``: :class:`PackedCollator`'s batch (``[1, N]`` input ids,
      position ids and the flash-attention kwargs);
    - ``"indexed_mask"``: ``[2, S]`` input ids with an indexed attention mask
      (and padding), as NeMo Automodel and LlamaFactory feed it; transformers
      5.x drops or casts such a mask unless
      ``packjit.integrations.automodel.configure_packing`` ran.

    A route passes when every document's logits equal those of the document
    run alone (relative error <= ``tolerance``: 1e-4 in fp32, 3e-2 in 16-bit
    types) and packjit's entry points saw exactly the documents' boundaries,
    in every attention layer (the indexed mask: a mask-based entry point,
    i.e. the mask itself reached packjit; the collator's batch: when the
    attention is packjit's, which records what it receives; other attentions
    take the collator's packjit-made kwargs and are judged by the logits).
    Returns ``{route: {"entry_points": [...], "max_relative_error": float}}``.
    """
    if model is None:
        model = tiny_llama()
    parameter = next(model.parameters())
    device, dtype = parameter.device, parameter.dtype
    if tolerance is None:
        tolerance = 1e-4 if dtype == torch.float32 else 3e-2
    config = model.config
    vocab = getattr(config, "vocab_size", 128)
    layers = getattr(config, "num_hidden_layers", 1)
    generator = torch.Generator().manual_seed(1234)
    documents = [torch.randint(1, vocab, (length,), generator=generator) for length in lengths]
    unknown = set(routes) - set(ROUTES)
    if unknown:
        raise ValueError(f"check: unknown routes {sorted(unknown)}; known: {ROUTES}")

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            solo = [_logits(model(input_ids=doc[None].to(device)))[0] for doc in documents]
            report, failures = {}, []
            for route in routes:
                run = _collator_route if route == "collator" else _indexed_mask_route
                logits, expected_cu, records = run(model, documents, device)
                error = max(_relative_error(got, want) for got, want in zip(logits, solo))
                seen = sorted({name for name, _ in records})
                report[route] = {"entry_points": seen, "max_relative_error": error}
                failures += _judge(route, model, expected_cu, records, layers, error, tolerance)
    finally:
        model.train(was_training)
    if failures:
        raise PackingCheckError("packjit.integrations.transformers.check failed:\n- " +
                                "\n- ".join(failures))
    return report


def _collator_route(model, documents, device):
    batch = PackedCollator(return_flash_attn_kwargs=True)([{"input_ids": d} for d in documents])
    inputs = {key: value.to(device) if isinstance(value, torch.Tensor) else value
              for key, value in batch.items() if key != "labels"}
    with _probe.recording() as records:
        logits = _logits(model(**inputs))[0]
    cu = batch["cu_seq_lens_q"].tolist()
    return [logits[cu[d]:cu[d + 1]] for d in range(len(documents))], cu, records


def _indexed_mask_route(model, documents, device):
    # The first half of the documents in row 0, the rest in row 1, each row
    # ending with padding.
    half = (len(documents) + 1) // 2
    rows = [documents[:half], documents[half:]]
    seqlen = max(sum(len(d) for d in row) for row in rows) + 2
    input_ids = torch.zeros(2, seqlen, dtype=torch.int64)
    mask = torch.zeros(2, seqlen, dtype=torch.int64)
    positions = torch.zeros(2, seqlen, dtype=torch.int64)
    places, cu = [], [0]
    for r, row in enumerate(rows):
        start = 0
        for number, doc in enumerate(row, start=1):
            end = start + len(doc)
            input_ids[r, start:end], mask[r, start:end] = doc, number
            positions[r, start:end] = torch.arange(len(doc))
            places.append((r, start, end))
            cu.append(cu[-1] + len(doc))
            start = end
    with _probe.recording() as records:
        logits = _logits(model(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                               position_ids=positions.to(device)))
    return [logits[r, start:end] for r, start, end in places], cu, records


def _judge(route, model, expected_cu, records, layers, error, tolerance):
    failures = []
    if error > tolerance:
        failures.append(f"{route}: packed logits differ from each document run alone (relative "
                        f"error {error:.3g} > {tolerance:g}): documents attended to each other")
    if route == "indexed_mask":
        wanted = [r for r in records if r[0] in _MASK_ENTRY_POINTS]
        if not wanted:
            failures.append(
                f"{route}: the indexed attention mask never reached packjit (entry points seen: "
                f"{sorted({r[0] for r in records}) or 'none'}); transformers' mask preprocessing "
                "dropped it or cast it to bool: call packjit.integrations.automodel."
                "configure_packing(attn_implementation) before the forward pass")
    else:
        if getattr(model.config, "_attn_implementation", None) != DEFAULT_NAME:
            return failures
        wanted = records
        if not wanted:
            failures.append(f"{route}: the packjit_varlen attention recorded no boundaries")
    wrong = [cu for _, cu in wanted if cu != expected_cu]
    if wrong:
        failures.append(f"{route}: packjit saw boundaries {wrong[0]}, expected {expected_cu}")
    elif wanted and len(wanted) < layers:
        failures.append(f"{route}: packjit's boundaries reached {len(wanted)} of {layers} "
                        "attention layers")
    return failures
