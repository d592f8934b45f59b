"""CUDA graphs the PyTorch way (issue #10): packjit.get_unpad_data_padded in
graphs made by the documented idioms, with no packjit-specific step.

- warm-up on a side stream, then ``with torch.cuda.graph(g):`` (which captures
  on a stream of its own), replays on new masks copied into the static input;
- ``torch.cuda.make_graphed_callables`` (forward and backward);
- ``torch.compile(mode="reduce-overhead")`` (cudagraph trees; needs the fake
  kernels of python/packjit/_fake.py);
- two graphs captured on two streams (or both on torch.cuda.graph's shared
  capture stream), replayed alternately and concurrently, next to eager calls;
- captures of masks larger than any seen before, with no warm-up at all;
- captures over poisoned memory: the caching allocator's free blocks and the
  graph's own pool hold stale bytes (0x7f, all ones, 1, 2, random words, new
  ones at every replay) where the scan's workspace is allocated.

Every replay is compared with the CPU op: indices[:nnz], cu_seqlens[:D+1] and
the summary against get_unpad_data, the whole padded results against
get_unpad_data_padded. The ops that wait on the host refuse a capture with an
error that names them and points to get_unpad_data_padded. Every test needs a
GPU and is skipped without one.
"""

import pytest
import torch

import packjit
from packed_masks import generator, random_packed_mask

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA device (torch.cuda.is_available() is False)")

MASK_DTYPES = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool]
# (batch, seqlen): a power-of-two row length (its own kernel under the default
# PACKJIT_SHAPES=bucket) and a non-power-of-two one (the dynamic kernel).
SHAPES = [(64, 4096), (3, 1000)]
GOLDEN = -7046029254386353131  # 0x9E3779B97F4A7C15 as an int64
STALE_WORDS = [0x7F7F7F7F7F7F7F7F, -1, 1, 2]  # 0x7f bytes, all ones, epoch-like


def check_padded(got, cpu_mask, max_documents=-1, what=""):
    """`got` (the padded results on the GPU) against the CPU ops."""
    indices, cu_seqlens, summary = (t.cpu() for t in got)
    ref_indices, ref_cu, ref_max = packjit.get_unpad_data(cpu_mask)
    nnz, docs = ref_indices.numel(), ref_cu.numel() - 1
    assert summary.tolist() == [nnz, docs, ref_max, -1], what
    assert torch.equal(indices[:nnz], ref_indices), what
    kept = min(docs, cu_seqlens.numel() - 1) + 1
    assert torch.equal(cu_seqlens[:kept], ref_cu[:kept]), what
    want = packjit.get_unpad_data_padded(cpu_mask, True, max_documents)
    for name, g, w in zip(("indices", "cu_seqlens", "summary"), (indices, cu_seqlens, summary),
                          want):
        assert g.dtype == w.dtype and torch.equal(g, w), f"{what}: {name}"


def warm_up_on_side_stream(fn, *args, iterations=3):
    """The warm-up of PyTorch's CUDA-graph docs: a few calls on a side stream."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(iterations):
            fn(*args)
    torch.cuda.current_stream().wait_stream(side)


def random_words(count, generator):
    return torch.randint(-2**63, 2**63 - 1, (count,), dtype=torch.int64, generator=generator)


def poison_caching_allocator(generator, release=True):
    """Leaves stale bytes in the caching allocator's free blocks, small pool
    (<= 1 MB) and large: blocks filled with STALE_WORDS and random words, then
    freed. With release, the cached segments go back to the driver, which in
    practice hands the same memory, bytes intact, to the next graph's pool."""
    junk = []
    for words in (2048, 1 << 17, 1 << 20):  # 16 KB, 1 MB, 8 MB
        for value in STALE_WORDS:
            junk.append(torch.full((words,), value, dtype=torch.int64, device="cuda"))
        junk.append(random_words(words, generator).cuda())
    torch.cuda.synchronize()
    del junk
    if release:
        torch.cuda.empty_cache()


def stale_blocks_in_capture(noise):
    """Inside a capture: fills blocks of the graph's pool with `noise` (a static
    tensor refreshed before every replay) and STALE_WORDS, then frees them, so
    that the capture's next allocations (a scan's workspace among them) land on
    memory that held garbage a moment before, at every replay."""
    junk = []
    for value in STALE_WORDS:
        junk.append(noise.clone())
        junk.append(torch.full_like(noise, value))
        junk.append(noise * GOLDEN + value)
    junk.append(torch.full((1 << 19,), STALE_WORDS[0], dtype=torch.int64, device=noise.device))
    del junk


# --- torch.cuda.graph ---------------------------------------------------------

@pytest.mark.parametrize("max_documents", [-1, 37])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", MASK_DTYPES)
def test_side_stream_warmup_then_torch_cuda_graph(dtype, shape, max_documents):
    g = generator("warm-up", dtype, shape, max_documents)
    static_mask = random_packed_mask(*shape, g, dtype).cuda()
    warm_up_on_side_stream(packjit.get_unpad_data_padded, static_mask, True, max_documents)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):  # on torch.cuda.graph's capture stream, not warmed up
        out = packjit.get_unpad_data_padded(static_mask, True, max_documents)
    for replay in range(12):
        mask = random_packed_mask(*shape, g, dtype)
        static_mask.copy_(mask)
        graph.replay()
        check_padded(out, mask, max_documents, f"replay {replay}")


def test_capture_needs_no_larger_mask_first():
    """No warm-up at those sizes: only a 1-row eager call (which loads the
    kernel that every int32 mask with rows of 4096 and up to 4 MB runs, so
    that nothing is compiled during the capture), then captures of 64 and 256
    rows (256 x 4096 runs nowhere before in this file)."""
    g = generator("larger")
    small = random_packed_mask(1, 4096, g, torch.int32)
    check_padded(packjit.get_unpad_data_padded(small.cuda()), small)
    torch.cuda.synchronize()
    graphs = []
    for batch in (64, 256):
        static_mask = random_packed_mask(batch, 4096, g, torch.int32).cuda()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = packjit.get_unpad_data_padded(static_mask)
        graphs.append((batch, static_mask, graph, out))
    for replay in range(10):
        for batch, static_mask, graph, out in graphs:
            mask = random_packed_mask(batch, 4096, g, torch.int32)
            static_mask.copy_(mask)
            graph.replay()
            check_padded(out, mask, -1, f"{batch} rows, replay {replay}")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", MASK_DTYPES)
def test_capture_over_poisoned_memory(dtype, shape):
    g = generator("poison", dtype, shape)
    max_documents = 29
    static_mask = random_packed_mask(*shape, g, dtype).cuda()
    noise = random_words(1 << 17, g).cuda()  # 1 MB: small-pool blocks
    warm_up_on_side_stream(packjit.get_unpad_data_padded, static_mask, True, max_documents)
    poison_caching_allocator(g)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        stale_blocks_in_capture(noise)
        out = packjit.get_unpad_data_padded(static_mask, True, max_documents)
        stale_blocks_in_capture(noise)  # over the workspace this call just freed
    for replay in range(25):
        noise.copy_(random_words(noise.numel(), g))
        mask = random_packed_mask(*shape, g, dtype)
        static_mask.copy_(mask)
        graph.replay()
        check_padded(out, mask, max_documents, f"replay {replay}")


def test_eager_calls_over_poisoned_memory():
    """The eager path's cached per-stream workspace is zeroed when it is
    allocated or grown. Per dtype, one stream (from PyTorch's pool, so it may
    have run the op earlier) and masks of growing size, up to 256 x 4096
    (larger than any other eager call of this file: at least one growth);
    before each size, that stream's free blocks are poisoned (the caching
    allocator reuses a free block only on its own stream)."""
    g = generator("eager poison")
    for dtype in (torch.int64, torch.int8):
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for shape in ((3, 1000), (64, 4096), (256, 4096)):
                poison_caching_allocator(g, release=False)
                for call in range(3):
                    mask = random_packed_mask(*shape, g, dtype)
                    out = packjit.get_unpad_data_padded(mask.cuda(), True, -1)
                    check_padded(out, mask, -1, f"{dtype} {shape}, call {call}")
        torch.cuda.synchronize()


# --- two graphs, two streams ----------------------------------------------------

@pytest.mark.parametrize("capture", ["two_streams", "shared_capture_stream"])
def test_two_graphs_replayed_alternately_and_concurrently(capture):
    g = generator("two graphs", capture)
    shape = (32, 8192)
    static = [random_packed_mask(*shape, g).cuda() for _ in range(2)]
    warm_up_on_side_stream(packjit.get_unpad_data_padded, static[0])
    graphs, outs = [torch.cuda.CUDAGraph(), torch.cuda.CUDAGraph()], []
    capture_streams = [torch.cuda.Stream(), torch.cuda.Stream()]
    for i in range(2):
        # shared_capture_stream: torch.cuda.graph's default capture stream, the
        # same for every graph.
        stream = capture_streams[i] if capture == "two_streams" else None
        with torch.cuda.graph(graphs[i], stream=stream):
            outs.append(packjit.get_unpad_data_padded(static[i]))
    replay_streams = [torch.cuda.Stream(), torch.cuda.Stream()]
    eager_stream = torch.cuda.Stream()
    for round_ in range(30):
        masks = [random_packed_mask(*shape, g) for _ in range(2)]
        on_device = [m.cuda() for m in masks]
        eager_mask = random_packed_mask(*shape, g)
        eager_on_device = eager_mask.cuda()
        torch.cuda.synchronize()
        if round_ % 3 == 0:  # alternately, on the current stream
            for i in range(2):
                static[i].copy_(on_device[i])
                graphs[i].replay()
                check_padded(outs[i], masks[i], -1, f"round {round_}, graph {i}")
            continue
        # Concurrently: each graph on a stream of its own, an eager call of the
        # same shape on a third, nothing waiting in between.
        for i in range(2):
            with torch.cuda.stream(replay_streams[(i + round_) % 2]):
                static[i].copy_(on_device[i])
                graphs[i].replay()
        with torch.cuda.stream(eager_stream):
            eager = packjit.get_unpad_data_padded(eager_on_device)
        torch.cuda.synchronize()
        for i in range(2):
            check_padded(outs[i], masks[i], -1, f"round {round_}, graph {i}")
        check_padded(eager, eager_mask, -1, f"round {round_}, eager")


# --- make_graphed_callables -------------------------------------------------------

def unpad_step(mask, hidden):
    """get_unpad_data_padded, then hidden's rows gathered by its indices (zero
    rows for the -1 tail): differentiable in hidden."""
    indices, cu_seqlens, summary = packjit.get_unpad_data_padded(mask, True, 64)
    rows = hidden.flatten(0, 1).index_select(0, indices.clamp(min=0))
    rows = rows * (indices >= 0).unsqueeze(-1).to(rows.dtype)
    return indices, cu_seqlens, summary, rows


def test_make_graphed_callables():
    g = generator("make_graphed_callables")
    batch, seqlen, width = 8, 4096, 16
    mask = random_packed_mask(batch, seqlen, g, torch.int32).cuda()
    hidden = torch.randn(batch, seqlen, width, generator=g).cuda().requires_grad_()
    graphed = torch.cuda.make_graphed_callables(unpad_step, (mask, hidden))
    for step in range(10):
        cpu_mask = random_packed_mask(batch, seqlen, g, torch.int32)
        cpu_hidden = torch.randn(batch, seqlen, width, generator=g)
        x = cpu_hidden.cuda().requires_grad_()
        indices, cu_seqlens, summary, rows = graphed(cpu_mask.cuda(), x)
        check_padded((indices, cu_seqlens, summary), cpu_mask, 64, f"step {step}")
        ref_indices, _, _ = packjit.get_unpad_data(cpu_mask)
        nnz = ref_indices.numel()
        want_rows = cpu_hidden.flatten(0, 1)[ref_indices]
        assert torch.equal(rows[:nnz].cpu(), want_rows), f"step {step}"
        assert not rows[nnz:].any(), f"step {step}"
        rows.sum().backward()
        want_grad = (cpu_mask != 0).unsqueeze(-1).float().expand(-1, -1, width)
        assert torch.equal(x.grad.cpu(), want_grad), f"step {step}"


# --- torch.compile(mode="reduce-overhead") ----------------------------------------

def require_fake_kernel():
    """torch.compile traces the op with FakeTensors: it needs the fake kernel
    that python/packjit/_fake.py registers (torch >= 2.4)."""
    if not hasattr(torch.library, "register_fake"):
        pytest.skip(f"torch {torch.__version__} has no torch.library.register_fake "
                    "(torch.compile of custom ops needs torch >= 2.4)")
    from torch._subclasses.fake_tensor import FakeTensorMode
    try:
        with FakeTensorMode():
            out = torch.ops.packjit.get_unpad_data_padded(
                torch.empty(2, 3, dtype=torch.int64), True, 5)
    except Exception as error:  # noqa: BLE001 - reported as the failure
        pytest.fail("packjit::get_unpad_data_padded has no fake kernel; torch.compile "
                    f"needs the one of python/packjit/_fake.py: {error!r}")
    assert [tuple(t.shape) for t in out] == [(6,), (6,), (4,)]


def compiled_step(mask):
    indices, cu_seqlens, summary = packjit.get_unpad_data_padded(mask, True, 50)
    return indices, cu_seqlens, summary, (indices >= 0).sum()


def test_torch_compile_reduce_overhead():
    """One compiled function called alternately on two mask shapes and dtypes:
    two graphs in one cudagraph-tree pool. Per shape, call 1 warms up (eagerly,
    with every allocation of this thread routed to that pool; the larger
    mask's warm-up grows the workspace of the tree's stream), call 2 records
    the graph, the others replay it; eager calls run in between."""
    require_fake_kernel()
    from torch._dynamo.utils import counters
    torch._dynamo.reset()
    counters.clear()
    step = torch.compile(compiled_step, mode="reduce-overhead", fullgraph=True, dynamic=False)
    g = generator("compile")
    configs = [(torch.int32, (3, 1000)), (torch.int64, (64, 4096))]
    for call in range(12):
        for dtype, shape in configs:
            what = f"call {call}, {dtype} {tuple(shape)}"
            torch.compiler.cudagraph_mark_step_begin()
            cpu_mask = random_packed_mask(*shape, g, dtype)
            indices, cu_seqlens, summary, tokens = step(cpu_mask.cuda())
            check_padded((indices, cu_seqlens, summary), cpu_mask, 50, what)
            assert int(tokens) == int((cpu_mask != 0).sum()), what
            if call % 4 == 3:
                eager_mask = random_packed_mask(*shape, g, dtype)
                eager = packjit.get_unpad_data_padded(eager_mask.cuda(), True, 50)
                check_padded(eager, eager_mask, 50, f"{what}: eager")
    assert counters["inductor"]["cudagraph_skips"] == 0, dict(counters["inductor"])


def test_outputs_do_not_share_storage():
    """torch.compile's custom-op check rejects outputs that alias each other."""
    mask = random_packed_mask(4, 1000, generator("aliasing")).cuda()
    for outs in (packjit.get_unpad_data_padded(mask), packjit.get_unpad_data(mask)[:2]):
        storages = {t.untyped_storage().data_ptr() for t in outs}
        assert len(storages) == len(outs)


# --- the ops that wait on the host ------------------------------------------------

HOST_WAITING_OPS = {
    "get_unpad_data": lambda mask, positions: packjit.get_unpad_data(mask),
    "get_seqlens_in_batch": lambda mask, positions: packjit.get_seqlens_in_batch(mask),
    "cu_seqlens_from_position_ids":
        lambda mask, positions: packjit.cu_seqlens_from_position_ids(positions),
}


@pytest.mark.parametrize("name", list(HOST_WAITING_OPS))
def test_ops_that_wait_on_the_host_refuse_a_capture(name):
    call = HOST_WAITING_OPS[name]
    g = generator("refuse", name)
    cpu_mask = random_packed_mask(4, 1000, g)
    mask = cpu_mask.cuda()
    positions = (torch.arange(12) % 5).cuda()
    warm_up_on_side_stream(call, mask, positions)
    graph = torch.cuda.CUDAGraph()
    hint = ("get_unpad_data_padded" if name != "cu_seqlens_from_position_ids"
            else "cu_seqlens_from_position_ids_padded")
    with pytest.raises(RuntimeError, match=rf"(?s)packjit\.{name} cannot be captured in "
                                           rf"a CUDA graph: .*{hint}"):
        with torch.cuda.graph(graph):
            mask.add(1)  # the graph is not empty
            call(mask, positions)
    # The refusal came before anything was enqueued: the capture ended cleanly
    # and the same op works eagerly, equal to its CPU result.
    result = call(mask, positions)
    expected = call(cpu_mask, positions.cpu())
    for got, want in zip(result if isinstance(result, tuple) else (result,),
                         expected if isinstance(expected, tuple) else (expected,)):
        if isinstance(want, torch.Tensor):
            assert torch.equal(got.cpu(), want)
        else:
            assert got == want
