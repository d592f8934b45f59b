"""Timing helpers the CUDA benchmarks share: host time per call, a
sync-free call's GPU time inside a CUDA graph, and the wait for tiered
specialization's background compiles."""

import statistics
import time

import torch


def wait_for_specialized_kernels():
    """Tiered specialization serves a generic kernel while the specialized
    one compiles in the background: time the specialized one."""
    try:
        import packjit
        packjit.wait_for_background_compiles()
    except (ImportError, AttributeError, RuntimeError):
        pass


def time_calls(fn, repeats, budget=1.0):
    """Median host µs per call after three warm-up calls (each call ends in
    its own sync; CPU ops too)."""
    for _ in range(3):
        fn()
    wait_for_specialized_kernels()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    samples = []
    deadline = time.perf_counter() + budget
    while len(samples) < repeats and (len(samples) < 5 or time.perf_counter() < deadline):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


def kernel_us(fn, launches=20, rounds=15):
    """GPU µs per call of a sync-free fn: `launches` calls captured in a CUDA
    graph, replays timed with events (no host launch gaps). A captured mask
    scan also zeroes its own workspace inside the graph, which these times
    include."""
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        fn()  # loads the kernel before capture
    wait_for_specialized_kernels()  # a graph keeps the kernel it captured
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=stream):
        for _ in range(launches):
            fn()
    graph.replay()
    torch.cuda.synchronize()
    samples = []
    for _ in range(rounds):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) * 1e3 / launches)
    return statistics.median(samples)


def host_us(fn, calls=200, warmup=10, drain_every=20):
    """Host µs per call of a sync-free fn (median of single calls); the
    launch queue is drained every `drain_every` calls, outside the timing."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    samples = []
    for i in range(1, calls + 1):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
        if drain_every and i % drain_every == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    return statistics.median(samples)


def floor_call(device):
    """The floor every op is measured against: one tiny launch, a 16-byte
    copy to pinned memory and a stream sync."""
    stream = torch.cuda.current_stream(device)
    tiny = torch.zeros(4, dtype=torch.int32, device=device)
    pinned = torch.empty(4, dtype=torch.int32, pin_memory=True)

    def floor():
        tiny.add_(1)
        pinned.copy_(tiny, non_blocking=True)
        stream.synchronize()

    return floor


def d2d_tbps(device):
    """A 256 MB device-to-device copy's bandwidth, read + write, in TB/s."""
    src = torch.empty(256 << 20, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    us = time_calls(lambda: (dst.copy_(src), torch.cuda.synchronize()), 50)
    return 2 * src.numel() / (us * 1e-6) / 1e12
