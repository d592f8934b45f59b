"""tests/distributed/cp_attention.py on the CPU: 4 ranks over gloo, fp32.

The context-parallel attention test (docs/distributed.md) with its own
launcher (Debian's torch 1.13 has no working torchrun on Python 3.12); on
the GPU host scripts/gpu-host.sh runs it with torchrun and NCCL.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch.distributed as dist


SCRIPT = Path(__file__).resolve().parents[1] / "distributed" / "cp_attention.py"


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="torch.distributed with gloo is not available")
def test_cp_attention_gloo_four_ranks():
    command = [sys.executable, str(SCRIPT), "--nproc", "4", "--device", "cpu",
               "--backend", "gloo"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Each rank's summary, wherever it landed in the shared stdout.
    statuses = re.findall(r"cp_attention rank (\d)/4 (ok|FAIL):", result.stdout)
    assert sorted(statuses) == [(str(r), "ok") for r in range(4)], output
