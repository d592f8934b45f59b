"""An AOT bundle made by ``packjit aot --ops`` for given masks and rows holds
every kernel the ops then launch: a process that loads it, with no disk cache
and no compiler, runs get_unpad_data and its companions, unpad_input /
pad_input with their backward, and cu_seqlens_from_position_ids, compiling
nothing (PACKJIT_LOG=info names every kernel's origin). By default each
kernel comes with ptxas's cubin for the GPU's arch and loads without the
driver's PTX JIT; with ``--no-cubin`` the driver JIT-compiles the PTX. Needs a
GPU, the ``packjit`` command (PACKJIT_CLI, else build/bin/packjit, else PATH)
and, for the cubins, the CUDA toolkit's ptxas."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import torch

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA device (torch.cuda.is_available() is False)")

REPO = pathlib.Path(__file__).resolve().parents[2]
MASKS = "8x4096:int64,3x1000:bool,2x2048:int32"
ROWS = "64:float32,4096:bfloat16"

# Run in a fresh process: PACKJIT_AOT is read when the kernel cache is made.
SCRIPT = r"""
import torch, packjit
dev = "cuda"
for (batch, seqlen, dtype) in [(8, 4096, torch.int64), (3, 1000, torch.bool),
                               (2, 2048, torch.int32)]:
    mask = torch.ones(batch, seqlen, dtype=dtype, device=dev)
    mask[:, seqlen // 2:] = 0
    for strict in (True, False):
        indices, cu, longest = packjit.get_unpad_data(mask, strict=strict)
        assert longest == seqlen // 2, longest
        packjit.get_seqlens_in_batch(mask, strict=strict)
        packjit.get_unpad_data_padded(mask, strict=strict)
    for width, dtype in [(64, torch.float32), (4096, torch.bfloat16)]:
        hidden = torch.randn(batch, seqlen, width, device=dev).to(dtype)
        hidden.requires_grad_(True)
        out = packjit.unpad_input(hidden, indices)
        out.sum().backward()  # pad_input
        x = torch.randn(indices.numel(), width, device=dev).to(dtype)
        x.requires_grad_(True)
        packjit.pad_input(x, indices, batch, seqlen).sum().backward()
        packjit.unpad_input_from_mask(hidden.detach(), mask)
    positions = torch.arange(seqlen, device=dev).repeat(batch, 1)
    for strict in (True, False):
        packjit.cu_seqlens_from_position_ids(positions, strict=strict)
torch.cuda.synchronize()
print("ran every op")
"""


def packjit_cli():
    for candidate in (os.environ.get("PACKJIT_CLI"), REPO / "build" / "bin" / "packjit",
                      shutil.which("packjit")):
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    pytest.skip("no packjit command (set PACKJIT_CLI, or build build/bin/packjit)")


KERNELS = ("mask_scan", "gather_rows", "scatter_rows", "position_ids_scan")


@pytest.mark.parametrize("cubins", [True, False], ids=["ptxas-cubins", "ptx-only"])
def test_bundle_from_ops_serves_every_launch_without_a_compiler(tmp_path, cubins):
    major, minor = torch.cuda.get_device_capability()
    arch = f"sm_{major}{minor}"
    bundle = tmp_path / "ops.pjb"
    made = subprocess.run(
        [packjit_cli(), "aot", "--ops",
         "get_unpad_data,get_seqlens_in_batch,get_unpad_data_padded,unpad_input,"
         "pad_input,unpad_input_from_mask,cu_seqlens_from_position_ids",
         "--masks", MASKS, "--rows", ROWS, "--archs", arch, "-o", str(bundle)]
        + ([] if cubins else ["--no-cubin"]),
        capture_output=True, text=True)
    if "needs the compiler" in made.stderr:
        pytest.skip("packjit aot found no compiler library: " + made.stderr.strip())
    if "needs the CUDA toolkit's ptxas" in made.stderr:
        pytest.skip("packjit aot found no ptxas for the cubins: " + made.stderr.strip())
    assert made.returncode == 0, made.stderr
    assert bundle.stat().st_size > 0

    env = dict(os.environ, PACKJIT_AOT=str(bundle), PACKJIT_CACHE="off",
               PACKJIT_LOG="info",
               PACKJIT_COMPILER_LIBRARY=str(tmp_path / "no-compiler.so"))
    ran = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True,
                         text=True, env=env)
    # A kernel missing from the bundle fails the op: "... is missing from
    # every AOT bundle and the kernel cache ..., and no compiler is available".
    assert ran.returncode == 0, ran.stderr
    assert "ran every op" in ran.stdout
    log = ran.stderr.splitlines()
    # packjit's own compiles log "compiled <kernel> in"; the driver's PTX JIT of
    # a bundled image logs "JIT-compiled PTX and loaded" (no compiler needed);
    # a bundled ptxas cubin "loaded ptxas cubin (sm_XX/ptxas=V) of", and one
    # the driver refused "refused the cubin".
    assert not [line for line in log if ": compiled " in line], ran.stderr
    hits = [line for line in log if "AOT hit: " in line]
    for kernel in KERNELS:
        assert any(f"AOT hit: {kernel}-" in line for line in hits), (kernel, ran.stderr)
    jitted = [line for line in log if "JIT-compiled PTX and loaded " in line]
    from_cubin = [line for line in log
                  if f"loaded ptxas cubin ({arch}/ptxas=" in line]
    if cubins:
        assert not jitted, ran.stderr
        assert not [line for line in log if "refused the cubin" in line], ran.stderr
        for kernel in KERNELS:
            assert any(f" of {kernel}-" in line for line in from_cubin), (kernel, ran.stderr)
    else:
        assert not from_cubin, ran.stderr
        for kernel in KERNELS:
            assert any(f" {kernel}-" in line for line in jitted), (kernel, ran.stderr)
