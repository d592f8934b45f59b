"""packjit.unpad_input / pad_input / unpad_inputs / unpad_input_from_mask from
Python: against index_select / index_put, gradcheck in double precision, and
the same results on CUDA when there is a GPU."""

import pytest
import torch

import packjit

DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int64, torch.int32]
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def random_data(shape, dtype, device="cpu"):
    if dtype.is_floating_point:
        return torch.randn(shape).to(dtype=dtype, device=device)
    return torch.randint(-1000, 1000, shape).to(dtype=dtype, device=device)


def reference_pad(x, indices, batch, seqlen):
    out = torch.zeros((batch * seqlen,) + x.shape[1:], dtype=x.dtype, device=x.device)
    out[indices] = x
    return out.view((batch, seqlen) + x.shape[1:])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("row_shape", [(), (3,), (5, 7), (4, 64)])
def test_matches_index_select_and_index_put(device, dtype, row_shape):
    torch.manual_seed(1)
    hidden = random_data((3, 11) + row_shape, dtype, device)
    indices = torch.randperm(33, device=device)[:19]
    unpadded = packjit.unpad_input(hidden, indices)
    assert torch.equal(unpadded, hidden.flatten(0, 1).index_select(0, indices))
    padded = packjit.pad_input(unpadded, indices, 3, 11)
    assert torch.equal(padded, reference_pad(unpadded, indices, 3, 11))


@pytest.mark.parametrize("device", DEVICES)
def test_strided_and_misaligned_views(device):
    indices = torch.randperm(4 * 9, device=device)[:20]
    qkv = random_data((4, 9, 3, 2, 6), torch.bfloat16, device)
    q, k, v = qkv.unbind(2)
    got = packjit.unpad_inputs([q, k, v], indices)
    for t, g in zip((q, k, v), got):
        assert torch.equal(g, t.flatten(0, 1)[indices])
    shifted = random_data((4 * 9 * 8 + 1,), torch.float16, device)[1:].view(4, 9, 8)
    assert torch.equal(packjit.unpad_input(shifted, indices), shifted.flatten(0, 1)[indices])


def test_gradcheck_double_cpu():
    indices = torch.randperm(15)[:9]
    hidden = torch.randn(3, 5, 2, 3, dtype=torch.float64, requires_grad=True)
    x = torch.randn(9, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda h: packjit.unpad_input(h, indices), (hidden,))
    assert torch.autograd.gradcheck(lambda t: packjit.pad_input(t, indices, 3, 5), (x,))
    assert torch.autograd.gradgradcheck(lambda h: packjit.unpad_input(h, indices), (hidden,))
    k = torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: tuple(packjit.unpad_inputs([a, b], indices)),
                                    (hidden, k))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_backward_matches_cpu():
    indices = torch.randperm(2 * 64)[:100]
    hidden = torch.randn(2, 64, 4, 32, dtype=torch.bfloat16)
    grads = []
    for device in ("cpu", "cuda"):
        h = hidden.to(device).detach().requires_grad_()
        out = packjit.unpad_input(h, indices.to(device))
        padded = packjit.pad_input(out * 2, indices.to(device), 2, 64)
        padded.float().sum().backward()
        grads.append(h.grad.cpu())
    assert torch.equal(grads[0], grads[1])


@pytest.mark.parametrize("device", DEVICES)
def test_repeated_indices_sum_gradients_like_index_select(device):
    """unpad_input may repeat an index; its gradient then sums, as
    index_select's does (it was [1, 0] for indices [0, 0])."""
    h = torch.ones(1, 2, 1, dtype=torch.float64, device=device, requires_grad=True)
    packjit.unpad_input(h, torch.tensor([0, 0], device=device)).sum().backward()
    assert h.grad.flatten().tolist() == [2.0, 0.0]
    torch.manual_seed(3)
    indices = torch.tensor([3, 0, 3, 14, 7, 0, 3], device=device)
    hidden = torch.randn(3, 5, 2, dtype=torch.float64, device=device, requires_grad=True)
    weight = torch.randn(7, 2, dtype=torch.float64, device=device)
    (packjit.unpad_input(hidden, indices) * weight).sum().backward()
    reference = hidden.detach().clone().requires_grad_()
    (reference.flatten(0, 1).index_select(0, indices) * weight).sum().backward()
    assert torch.allclose(hidden.grad, reference.grad)
    if device == "cpu":
        assert torch.autograd.gradcheck(lambda t: packjit.unpad_input(t, indices), (hidden,))
        assert torch.autograd.gradgradcheck(lambda t: packjit.unpad_input(t, indices), (hidden,))


def test_pad_input_refuses_repeated_indices():
    message = (r"packjit.pad_input: indices\[2\] = 4 repeats indices\[0\]; pad_input writes "
               r"each output row once, so its indices should be distinct")
    for requires_grad in (False, True):
        x = torch.randn(3, 2, requires_grad=requires_grad)
        with pytest.raises(RuntimeError, match=message):
            packjit.pad_input(x, torch.tensor([4, 1, 4]), 2, 3)


def test_unpad_input_from_mask_is_flash_attentions_tuple():
    mask = torch.tensor([[1, 1, 2, 2, 2, 0], [1, 2, 2, 3, 3, 3]])
    hidden = torch.randn(2, 6, 8, requires_grad=True)
    unpadded, indices, cu_seqlens, max_seqlen, used = packjit.unpad_input_from_mask(hidden, mask)
    assert indices.tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
    assert cu_seqlens.tolist() == [0, 2, 5, 6, 8, 11]
    assert max_seqlen == 3
    assert used.dtype == torch.int32 and used.tolist() == [5, 6]
    assert torch.equal(unpadded, hidden.flatten(0, 1)[indices])
    unpadded.sum().backward()
    assert hidden.grad.flatten(0, 1)[:, 0].tolist() == [1.0] * 5 + [0.0] + [1.0] * 6


def test_errors():
    with pytest.raises(RuntimeError, match="indices should be an int64 tensor"):
        packjit.pad_input(torch.randn(2, 4), torch.tensor([0, 1], dtype=torch.int32), 2, 3)


def test_out_of_range_errors():
    hidden = torch.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"indices\[1\] = 6 is out of range \[0, 6\)"):
        packjit.unpad_input(hidden, torch.tensor([0, 6]))
    with pytest.raises(RuntimeError, match=r"indices\[0\] = -1 is out of range \[0, 6\)"):
        packjit.unpad_inputs([hidden, hidden], torch.tensor([-1]))
    with pytest.raises(RuntimeError, match=r"indices\[1\] = 7 is out of range \[0, 6\)"):
        packjit.pad_input(torch.randn(2, 4, requires_grad=True), torch.tensor([0, 7]), 2, 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_mismatched_devices():
    hidden = torch.randn(2, 3, 4)
    indices = torch.tensor([0, 1])
    message = "hidden is on cuda:0 but indices is on cpu; both should be on the same device"
    with pytest.raises(RuntimeError, match=message):
        packjit.unpad_input(hidden.cuda(), indices)
    with pytest.raises(RuntimeError, match=message):
        packjit.unpad_input(hidden.cuda().requires_grad_(), indices)
    with pytest.raises(RuntimeError, match=message):
        packjit.unpad_inputs([hidden.cuda()], indices)
    with pytest.raises(RuntimeError, match="x is on cpu but indices is on cuda:0"):
        packjit.pad_input(hidden[0], indices.cuda(), 2, 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("strategy", ["scatter", "gather"])
def test_packjit_check_raises_on_cuda_as_on_the_cpu(monkeypatch, strategy):
    """PACKJIT_CHECK=1: the CUDA gathers and scatters check their indices on
    the device and raise the CPU's error; off, a bad row reads as zeros (or
    is skipped) and the good rows are unchanged."""
    monkeypatch.setenv("PACKJIT_PAD_INPUT", strategy)
    hidden = torch.randn(2, 3, 4, device="cuda")
    x = torch.randn(2, 4, device="cuda")
    good = torch.tensor([0, 5], device="cuda")
    cases = {"out of range": (torch.tensor([0, 6], device="cuda"), r"indices\[1\] = 6 is out of range \[0, 6\)"),
             "negative": (torch.tensor([-1, 2], device="cuda"), r"indices\[0\] = -1 is out of range \[0, 6\)")}
    monkeypatch.setenv("PACKJIT_CHECK", "1")
    for indices, message in cases.values():
        with pytest.raises(RuntimeError, match="packjit.unpad_input: " + message):
            packjit.unpad_input(hidden, indices)
        with pytest.raises(RuntimeError, match="packjit.unpad_input: " + message):
            packjit.unpad_input(hidden.clone().requires_grad_(), indices)
        with pytest.raises(RuntimeError, match="packjit.unpad_inputs: " + message):
            packjit.unpad_inputs([hidden, hidden], indices)
        with pytest.raises(RuntimeError, match="packjit.pad_input: " + message):
            packjit.pad_input(x, indices, 2, 3)
        with pytest.raises(RuntimeError, match="packjit.pad_input: " + message):
            packjit.pad_input(x.clone().requires_grad_(), indices, 2, 3)
    with pytest.raises(RuntimeError, match=r"packjit.pad_input: indices\[1\] = 4 repeats indices\[0\]"):
        packjit.pad_input(x, torch.tensor([4, 4], device="cuda"), 2, 3)
    assert torch.equal(packjit.unpad_input(hidden, good), hidden.flatten(0, 1)[good])
    checked_pad = packjit.pad_input(x, good, 2, 3)
    assert torch.equal(checked_pad, reference_pad(x, good, 2, 3))

    monkeypatch.setenv("PACKJIT_CHECK", "0")
    bad = cases["out of range"][0]
    unpadded = packjit.unpad_input(hidden, bad)
    assert torch.equal(unpadded[0], hidden[0, 0]) and not unpadded[1].any()
    padded = packjit.pad_input(x, bad, 2, 3).flatten(0, 1)
    assert torch.equal(padded[0], x[0]) and not padded[1:].any()
    assert torch.equal(packjit.pad_input(x, good, 2, 3), checked_pad)
