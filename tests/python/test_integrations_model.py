"""A tiny random Llama with attn_implementation="packjit_varlen" on packed
batches: the same logits and gradients as each document run alone (fp32,
relative error <= 1e-5); a seq_idx consumer; check() catching unpatched mask
preprocessing."""

import pytest
import torch

pytest.importorskip(
    "transformers", minversion="5.0",
    reason="packjit.integrations needs transformers >= 5 (the torch 2.11 venv has 5.23)")

from packjit.attention import block_diagonal_mask, varlen_attention  # noqa: E402
from packjit.integrations import automodel  # noqa: E402
from packjit.integrations.transformers import (  # noqa: E402
    PackedCollator, PackingCheckError, check, tiny_llama)

LENGTHS = (6, 3, 9, 5)
TOLERANCE = 1e-5


def relative_error(actual, expected):
    return float((actual - expected).abs().max() / expected.abs().max())


@pytest.fixture(scope="module")
def documents():
    g = torch.Generator().manual_seed(7)
    return [torch.randint(1, 128, (n,), generator=g) for n in LENGTHS]


@pytest.fixture(scope="module")
def reference(documents):
    """Logits and summed-loss gradients of each document run alone through
    transformers' own eager attention (no packjit code on this path)."""
    model = tiny_llama("eager")
    logits, grads = [], None
    for doc in documents:
        model.zero_grad()
        out = model(input_ids=doc[None])
        loss = summed_loss(out.logits[0], torch.cat([torch.tensor([-100]), doc[1:]]))
        loss.backward()
        logits.append(out.logits[0].detach())
        step = {n: p.grad.clone() for n, p in model.named_parameters()}
        grads = step if grads is None else {n: grads[n] + step[n] for n in grads}
    return logits, grads


def summed_loss(logits, labels):
    """Causal-LM loss summed over tokens: labels[t] is predicted at t-1."""
    return torch.nn.functional.cross_entropy(logits[:-1], labels[1:], ignore_index=-100,
                                             reduction="sum")


def assert_matches(reference, logits_per_document, model):
    ref_logits, ref_grads = reference
    for got, want in zip(logits_per_document, ref_logits):
        assert relative_error(got.detach(), want) <= TOLERANCE
    for name, parameter in model.named_parameters():
        assert relative_error(parameter.grad, ref_grads[name]) <= TOLERANCE, name


def test_collator_batch_gives_each_documents_logits_and_gradients(documents, reference):
    model = tiny_llama()
    batch = PackedCollator(return_flash_attn_kwargs=True)([{"input_ids": d} for d in documents])
    labels = batch.pop("labels")
    out = model(**batch)
    summed_loss(out.logits[0], labels[0]).backward()
    cu = batch["cu_seq_lens_q"].tolist()
    assert_matches(reference, [out.logits[0, cu[i]:cu[i + 1]] for i in range(len(documents))],
                   model)


def test_collator_position_ids_alone_also_separate_documents(documents, reference):
    model = tiny_llama()
    batch = PackedCollator()([{"input_ids": d} for d in documents])
    labels = batch.pop("labels")
    out = model(**batch)
    summed_loss(out.logits[0], labels[0]).backward()
    cu = [0] + torch.tensor(LENGTHS).cumsum(0).tolist()
    assert_matches(reference, [out.logits[0, cu[i]:cu[i + 1]] for i in range(len(documents))],
                   model)


@pytest.fixture
def packing_configured():
    automodel.configure_packing("packjit_varlen")
    yield
    automodel.unconfigure_packing()


def indexed_batch(documents):
    """Rows [d0 d1 pad] and [d2 d3 pad]: input ids, indexed mask, labels
    (-100 at each document's first token and at padding)."""
    rows = [documents[:2], documents[2:]]
    seqlen = max(sum(len(d) for d in row) for row in rows) + 3
    input_ids = torch.zeros(2, seqlen, dtype=torch.long)
    mask = torch.zeros_like(input_ids)
    labels = torch.full_like(input_ids, -100)
    places = []
    for r, row in enumerate(rows):
        start = 0
        for number, doc in enumerate(row, start=1):
            end = start + len(doc)
            input_ids[r, start:end], mask[r, start:end] = doc, number
            labels[r, start + 1:end] = doc[1:]
            places.append((r, start, end))
            start = end
    return input_ids, mask, labels, places


def test_indexed_mask_after_configure_packing(documents, reference, packing_configured):
    model = tiny_llama()
    input_ids, mask, labels, places = indexed_batch(documents)
    # No position_ids: the model numbers each row 0..S-1; RoPE is relative,
    # so each document still sees what it sees alone.
    out = model(input_ids=input_ids, attention_mask=mask)
    loss = sum(summed_loss(out.logits[r], labels[r]) for r in range(2))
    loss.backward()
    assert_matches(reference, [out.logits[r, a:b] for r, a, b in places], model)


def test_without_configure_packing_the_indexed_mask_is_lost(documents, reference):
    model = tiny_llama()
    input_ids, mask, _, places = indexed_batch(documents)
    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=mask)
    errors = [relative_error(out.logits[r, a:b], want)
              for (r, a, b), want in zip(places, reference[0])]
    assert max(errors) > 1e-2  # the second document of a row saw the first


def test_check_passes_once_packing_is_configured(packing_configured):
    report = check()
    assert report["collator"]["entry_points"] == ["packjit_varlen:cu_seq_lens"]
    assert report["indexed_mask"]["entry_points"] == ["packjit_varlen:attention_mask"]


def test_check_catches_unpatched_mask_preprocessing():
    with pytest.raises(PackingCheckError, match="indexed attention mask never reached packjit"):
        check()
    # Configured, then transformers' own mask functions put back: caught too.
    import transformers.masking_utils as masking_utils
    import transformers.models.llama.modeling_llama as modeling_llama
    automodel.configure_packing("packjit_varlen")
    try:
        passthrough, shim = modeling_llama.create_causal_mask, masking_utils._preprocess_mask_arguments
        modeling_llama.create_causal_mask = masking_utils.create_causal_mask
        masking_utils._preprocess_mask_arguments = automodel._state["preprocess"]
        try:
            with pytest.raises(PackingCheckError, match="never reached packjit"):
                check()
        finally:
            modeling_llama.create_causal_mask, masking_utils._preprocess_mask_arguments = (
                passthrough, shim)
        check()
    finally:
        automodel.unconfigure_packing()


def test_check_rejects_an_attention_that_ignores_packing():
    model = tiny_llama("sdpa")
    with pytest.raises(PackingCheckError, match="documents attended to each other"):
        check(model, routes=("collator",))


def test_seq_idx_consumer_restarts_per_document(documents):
    """A Mamba-style state (a cumulative sum) reset with seq_idx equals the
    per-document result."""
    batch = PackedCollator(return_seq_idx=True)([{"input_ids": d} for d in documents])
    g = torch.Generator().manual_seed(3)
    features = torch.randn(int(batch["input_ids"].shape[1]), 8, generator=g, dtype=torch.float64)
    seq_idx = batch["seq_idx"][0].long()
    total = features.cumsum(0)
    starts = torch.nonzero(torch.diff(seq_idx, prepend=seq_idx[:1] - 1)).flatten()
    offsets = torch.cat([torch.zeros(1, 8, dtype=features.dtype), total[starts[1:] - 1]])
    packed = total - offsets[seq_idx]
    per_document = torch.cat([chunk.cumsum(0) for chunk in features.split(list(LENGTHS))])
    torch.testing.assert_close(packed, per_document, rtol=1e-12, atol=1e-12)
    assert seq_idx.tolist() == sum(([d] * n for d, n in enumerate(LENGTHS)), [])


@pytest.mark.parametrize("window", [None, 1, 3])
@pytest.mark.parametrize("kv_heads", [4, 2, 1])
def test_varlen_attention_windows_and_grouped_heads(window, kv_heads):
    g = torch.Generator().manual_seed(window or 0)
    cu = torch.tensor([0, 5, 6, 13], dtype=torch.int32)
    q = torch.randn(13, 4, 8, generator=g, dtype=torch.float64)
    k, v = (torch.randn(13, kv_heads, 8, generator=g, dtype=torch.float64) for _ in range(2))
    out = varlen_attention(q, k, v, cu, 7, sliding_window=window)
    groups = 4 // kv_heads
    for d in range(3):
        a, b = int(cu[d]), int(cu[d + 1])
        i = torch.arange(b - a)
        allowed = i[:, None] >= i[None, :]
        if window is not None:
            allowed &= (i[:, None] - i[None, :]) < window
        for h in range(4):
            scores = (q[a:b, h] @ k[a:b, h // groups].T) * 8 ** -0.5
            probs = scores.masked_fill(~allowed, float("-inf")).softmax(-1)
            torch.testing.assert_close(out[a:b, h], probs @ v[a:b, h // groups])
    assert block_diagonal_mask(cu, 13, sliding_window=window).sum() < 13 * 13


def test_sliding_window_model_matches_eager(documents):
    """transformers' eager attention honours config.sliding_window through
    its mask; packjit_varlen through the module's sliding_window."""
    from transformers import MistralConfig, MistralForCausalLM
    from packjit.integrations.transformers import register_attention

    register_attention()
    config = MistralConfig(vocab_size=128, hidden_size=64, intermediate_size=128,
                           num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                           sliding_window=4)
    torch.manual_seed(0)
    eager = MistralForCausalLM._from_config(config, attn_implementation="eager").eval()
    ours = MistralForCausalLM._from_config(config, attn_implementation="packjit_varlen").eval()
    ours.load_state_dict(eager.state_dict())
    batch = PackedCollator(return_flash_attn_kwargs=True)([{"input_ids": d} for d in documents])
    batch.pop("labels")
    with torch.no_grad():
        packed = ours(**batch).logits[0]
        cu = batch["cu_seq_lens_q"].tolist()
        for i, doc in enumerate(documents):
            alone = eager(input_ids=doc[None]).logits[0]
            assert relative_error(packed[cu[i]:cu[i + 1]], alone) <= TOLERANCE
