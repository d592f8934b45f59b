"""torch.compile and FakeTensor: every op's fake kernel (torch.library.opcheck),
and a packed-attention block compiled with fullgraph=True (no graph break, no
recompile across masks of one shape, new shapes with dynamic=True, equal to
eager forward and backward). On the CPU always; on CUDA too when there is a GPU."""

import pytest
import torch

import packjit
from packed_masks import random_packed_mask
from packjit.attention import packed_attention

if not hasattr(torch.library, "register_fake") or not hasattr(torch.library, "opcheck"):
    pytest.skip(f"torch {torch.__version__} has no torch.library.register_fake/opcheck "
                "(torch.compile of custom ops needs torch >= 2.4)", allow_module_level=True)

import torch._dynamo.testing  # noqa: E402

MASK = [[1, 1, 2, 2, 2, 0], [1, 2, 2, 3, 3, 3]]


def devices():
    out = ["cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    return out


def op_samples(device):
    g = torch.Generator().manual_seed(0)
    mask = random_packed_mask(3, 17, g).to(device)
    hidden = torch.randn(3, 17, 4, device=device, requires_grad=True)
    indices, _, _ = packjit.get_unpad_data(mask)
    x = torch.randn(indices.numel(), 4, device=device, requires_grad=True)
    positions = torch.cat([torch.arange(5), torch.arange(7), torch.arange(3)]).to(device)
    return {
        "get_unpad_data": [(mask, True), (mask.to(torch.int32), False), (mask != 0, True)],
        "get_seqlens_in_batch": [(mask, True), (mask.to(torch.uint8), True)],
        "get_unpad_data_padded": [(mask, True, -1), (mask, True, 8)],
        "cu_seqlens_from_position_ids": [(positions, True), (positions[None], True)],
        "unpad_input": [(hidden, indices)],
        "pad_input": [(x, indices, 3, 17)],
        "unpad_inputs": [([hidden, hidden.detach() * 2], indices)],
    }


@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("name", ["get_unpad_data", "get_seqlens_in_batch",
                                  "get_unpad_data_padded", "cu_seqlens_from_position_ids",
                                  "unpad_input", "pad_input", "unpad_inputs"])
def test_opcheck(name, device):
    op = getattr(torch.ops.packjit, name).default
    for args in op_samples(device)[name]:
        torch.library.opcheck(op, args)


def reference_block(q, k, v, mask):
    """Each document alone through SDPA, documents as docs/ops.md defines
    them: a row's non-zero tokens split into runs of equal value (padding
    inside a run does not end it). A Python loop: eager only."""
    out = torch.zeros_like(q)
    for b in range(mask.shape[0]):
        positions = mask[b].nonzero().flatten()
        values = mask[b][positions]
        starts = [0] + [i for i in range(1, len(values)) if values[i] != values[i - 1]]
        for start, end in zip(starts, starts[1:] + [len(values)]):
            doc = positions[start:end]
            out[b, doc] = torch.nn.functional.scaled_dot_product_attention(
                q[b, doc].transpose(0, 1), k[b, doc].transpose(0, 1),
                v[b, doc].transpose(0, 1), is_causal=True).transpose(0, 1)
    return out


def qkv(batch, seqlen, device, dtype, generator, heads=2, dim=16):
    return [torch.randn(batch, seqlen, heads, dim, generator=generator, dtype=dtype)
            .to(device).requires_grad_() for _ in range(3)]


def tolerance(device):
    # CUDA: varlen_attn runs flash attention in bf16 (its inputs' dtype).
    return dict(atol=2e-2, rtol=2e-2) if device == "cuda" else dict(atol=1e-5, rtol=1e-5)


def dtype_for(device):
    return torch.bfloat16 if device == "cuda" else torch.float32


def run_and_grad(fn, inputs, mask):
    out = fn(*inputs, mask)
    grads = torch.autograd.grad(out.float().square().sum(), inputs)
    return out, grads


def packed_inputs(batch, seqlen, device, generator):
    mask = random_packed_mask(batch, seqlen, generator).to(device)
    return mask, qkv(batch, seqlen, device, dtype_for(device), generator)


def assert_same_step(fn, want_fn, inputs, mask, device, valid_only=False):
    """fn and want_fn give the same output and the same gradients of q, k, v
    (with valid_only, the outputs are compared at tokens only)."""
    out, grads = run_and_grad(fn, inputs, mask)
    want, want_grads = run_and_grad(want_fn, inputs, mask)
    if valid_only:
        valid = (mask != 0)[..., None, None]
        out, want = out * valid, want * valid
    torch.testing.assert_close(out, want, **tolerance(device))
    for grad, want_grad in zip(grads, want_grads):
        torch.testing.assert_close(grad, want_grad, **tolerance(device))


@pytest.mark.parametrize("device", devices())
def test_packed_attention_matches_each_document_alone(device):
    g = torch.Generator().manual_seed(1)
    for batch, seqlen in [(2, 24), (3, 40)]:
        mask, inputs = packed_inputs(batch, seqlen, device, g)
        assert_same_step(packed_attention, reference_block, inputs, mask, device,
                         valid_only=True)


@pytest.mark.parametrize("device", devices())
def test_compiled_block_fullgraph_no_recompile_equals_eager(device):
    torch._dynamo.reset()
    counter = torch._dynamo.testing.CompileCounterWithBackend("inductor")
    compiled = torch.compile(packed_attention, backend=counter, fullgraph=True)
    g = torch.Generator().manual_seed(2)
    for _ in range(20):
        mask, inputs = packed_inputs(4, 32, device, g)
        assert_same_step(compiled, packed_attention, inputs, mask, device)
    # fullgraph=True raises on any graph break; one frame, compiled once for
    # 20 masks of one shape.
    assert counter.frame_count == 1, counter.frame_count


@pytest.mark.parametrize("device", devices())
def test_compiled_block_dynamic_shapes(device):
    torch._dynamo.reset()
    counter = torch._dynamo.testing.CompileCounterWithBackend("inductor")
    compiled = torch.compile(packed_attention, backend=counter, fullgraph=True,
                             dynamic=True)
    g = torch.Generator().manual_seed(3)
    # First shape unlike heads (2) and dim (16): dynamo's duck sizing would tie them.
    for batch, seqlen in [(3, 24), (5, 40), (4, 20), (6, 64)]:
        mask, inputs = packed_inputs(batch, seqlen, device, g)
        assert_same_step(compiled, packed_attention, inputs, mask, device)
    assert counter.frame_count == 1, counter.frame_count


@pytest.mark.parametrize("device", devices())
def test_compiled_ops_fullgraph(device):
    """Each op alone under fullgraph: the data-dependent sizes come back as
    unbacked SymInts and the results equal eager."""
    mask = torch.tensor(MASK, device=device)
    positions = torch.tensor([0, 1, 2, 0, 1, 0, 1, 2, 3], device=device)

    def fn(mask, positions):
        indices, cu, longest = packjit.get_unpad_data(mask)
        seqlens = packjit.get_seqlens_in_batch(mask)
        padded = packjit.get_unpad_data_padded(mask, True, 8)
        pcu, plongest = packjit.cu_seqlens_from_position_ids(positions)
        return indices, cu, seqlens, padded, pcu, longest + plongest

    torch._dynamo.reset()
    got = torch.compile(fn, backend="aot_eager", fullgraph=True)(mask, positions)
    want = fn(mask, positions)
    assert got[0].tolist() == want[0].tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
    assert got[1].tolist() == want[1].tolist() == [0, 2, 5, 6, 8, 11]
    assert got[2].tolist() == want[2].tolist() == [2, 3, 1, 2, 3]
    for a, b in zip(got[3], want[3]):
        assert torch.equal(a, b)
    assert got[4].tolist() == want[4].tolist() == [0, 3, 5, 9]
    assert int(got[5]) == int(want[5]) == 3 + 4
