"""On CUDA (the H200 host): the packjit_varlen Llama in bf16 against each
document alone, and a forward+backward with zero host syncs. The checks are
benchmarks/train_step_bench.py's; skipped without CUDA."""

import importlib.util
import pathlib

import pytest
import torch

pytest.importorskip(
    "transformers", minversion="5.0",
    reason="packjit.integrations needs transformers >= 5 (the torch 2.11 venv has 5.23)")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA device (run on the GPU host)")


@pytest.fixture(scope="module")
def bench():
    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "train_step_bench.py"
    spec = importlib.util.spec_from_file_location("train_step_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from packjit.integrations.transformers import register_attention
    register_attention()
    return module


def test_bf16_packed_step_matches_each_document_alone(bench):
    from packjit.integrations.transformers import PackedCollator
    result = bench.correctness(PackedCollator)
    assert result["passed"], result


def test_forward_and_backward_make_no_host_sync(bench):
    from packjit.integrations.transformers import PackedCollator
    result = bench.sync_free(PackedCollator)
    assert result["packjit_varlen"]["host_syncs"] == 0, result
