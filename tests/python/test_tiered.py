"""Tiered specialization (docs/runtime.md): the first CUDA call at a new row
length runs the generic mask scan while the specialized one compiles in the
background, and results are the CPU op's before, during and after the swap,
under several threads. The CUDA tests run in a fresh process with an empty
kernel cache (every specialization is new there) and read its PACKJIT_LOG.
A forked child (DataLoader workers fork) uses packjit without deadlocking,
also while a background compile runs."""

import multiprocessing
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import packjit
from packed_masks import generator, random_packed_mask

HERE = Path(__file__).resolve().parent
needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA device (torch.cuda.is_available() is False)")

# Shared by the scripts: the CUDA ops against the CPU ops on one mask.
CHECK = textwrap.dedent("""
    import torch, packjit

    def check(cpu_mask):
        mask = cpu_mask.cuda()
        want = packjit.get_unpad_data(cpu_mask)
        got = packjit.get_unpad_data(mask)
        assert torch.equal(got[0].cpu(), want[0]), "indices"
        assert torch.equal(got[1].cpu(), want[1]), "cu_seqlens"
        assert got[2] == want[2], "max_seqlen"
        assert torch.equal(packjit.get_seqlens_in_batch(mask).cpu(),
                           packjit.get_seqlens_in_batch(cpu_mask)), "seqlens"
        for g, w in zip(packjit.get_unpad_data_padded(mask),
                        packjit.get_unpad_data_padded(cpu_mask)):
            assert torch.equal(g.cpu(), w), "padded"
""")


def run_fresh_process(script, tmp_path, timeout=300, **variables):
    """`script` in a new interpreter with an empty kernel cache,
    PACKJIT_LOG=info and `variables`; returns the finished process."""
    env = dict(os.environ)
    for name in ("PACKJIT_TIERED", "PACKJIT_SHAPES", "PACKJIT_AOT"):
        env.pop(name, None)
    env.update(PACKJIT_CACHE_DIR=str(tmp_path / "cache"), PACKJIT_LOG="info",
               PYTHONPATH=os.pathsep.join(
                   [str(HERE)] + [p for p in sys.path if p]), **variables)
    done = subprocess.run([sys.executable, "-c", CHECK + textwrap.dedent(script)],
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def log_lines(stderr, what):
    return [i for i, line in enumerate(stderr.splitlines()) if what in line]


@needs_cuda
def test_results_equal_before_during_and_after_the_swap(tmp_path):
    done = run_fresh_process("""
        import threading
        from packed_masks import random_packed_mask

        # Powers of two: each row length has a kernel of its own (bucket).
        SHAPES = [(8, 2048), (3, 4096)]
        DTYPES = [torch.int64, torch.int32, torch.uint8, torch.bool]
        THREADS = 8
        after_swap = threading.Event()
        stop = threading.Event()
        calls = [[0, 0] for _ in range(THREADS)]  # before, after the wait
        errors = []

        def work(t):
            g = torch.Generator().manual_seed(t)
            batch, seqlen = SHAPES[t % len(SHAPES)]
            dtype = DTYPES[t % len(DTYPES)]
            try:
                while not stop.is_set():
                    check(random_packed_mask(batch, seqlen, g, dtype))
                    calls[t][after_swap.is_set()] += 1
            except Exception as e:
                errors.append(f"thread {t}: {e!r}")
                stop.set()

        threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        while not stop.is_set() and min(c[0] for c in calls) < 3:
            stop.wait(0.001)
        packjit.wait_for_background_compiles()
        after_swap.set()
        while not stop.is_set() and min(c[1] for c in calls) < 3:
            stop.wait(0.001)
        stop.set()
        for thread in threads:
            thread.join()
        assert not errors, errors
        print("calls before/after the wait:", calls)
    """, tmp_path)
    queued = log_lines(done.stderr, "tiered: queued mask_scan")
    ready = log_lines(done.stderr, "tiered: mask_scan")
    swapped = log_lines(done.stderr, "tiered: swapped in mask_scan")
    failed = log_lines(done.stderr, "background compile of")
    assert queued and ready and swapped, done.stderr
    assert not failed, done.stderr
    assert min(queued) < min(ready) < min(swapped), done.stderr
    print(done.stdout)


@needs_cuda
def test_tiering_off_compiles_before_the_first_launch(tmp_path):
    done = run_fresh_process("""
        from packed_masks import random_packed_mask
        check(random_packed_mask(4, 2048, torch.Generator().manual_seed(0)))
    """, tmp_path, PACKJIT_TIERED="0")
    assert not log_lines(done.stderr, "tiered:"), done.stderr
    # No generic (SEQ=0) kernel: one compile per variant, strict and padded.
    assert len(log_lines(done.stderr, "compiled mask_scan")) == 2, done.stderr


@needs_cuda
def test_a_fork_while_a_background_compile_runs(tmp_path):
    run_fresh_process("""
        import os, time
        from packed_masks import random_packed_mask
        mask = random_packed_mask(4, 8192, torch.Generator().manual_seed(1))
        check(mask)  # queues the specialized scans: compiling now
        pid = os.fork()
        if pid == 0:
            ok = False
            try:
                cpu = packjit.get_unpad_data(mask)  # the CPU op in the child
                ok = cpu[1][-1].item() == int((mask != 0).sum())
                packjit.wait_for_background_compiles()
            finally:
                os._exit(0 if ok else 1)
        deadline = time.monotonic() + 120
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            assert time.monotonic() < deadline, "the forked child hangs"
            time.sleep(0.01)
        assert os.waitstatus_to_exitcode(status) == 0, status
        packjit.wait_for_background_compiles()
        check(mask)
    """, tmp_path)


def _child_uses_packjit():
    mask = random_packed_mask(3, 257, generator("fork child"))
    indices, cu_seqlens, _ = packjit.get_unpad_data(mask)
    assert torch.equal(indices, torch.nonzero(mask.flatten()).flatten())
    assert cu_seqlens[-1].item() == indices.numel()
    packjit.wait_for_background_compiles()


def test_a_forked_child_uses_packjit_and_its_background_queue():
    packjit.wait_for_background_compiles()  # the queue exists before the fork
    if torch.cuda.is_available():  # and maybe compiles: a new row length
        packjit.get_unpad_data(random_packed_mask(2, 1 << 13, generator("fork")).cuda())
    child = multiprocessing.get_context("fork").Process(target=_child_uses_packjit)
    child.start()
    child.join(timeout=120)
    if child.exitcode is None:
        child.kill()
    assert child.exitcode == 0
