"""patch()/unpatch() and NeMo Automodel's contract against the installed
transformers 5.23."""

import importlib
import sys
import types

import pytest
import torch

pytest.importorskip(
    "transformers", minversion="5.0",
    reason="packjit.integrations needs transformers >= 5 (the torch 2.11 venv has 5.23)")

import transformers.masking_utils as masking_utils  # noqa: E402
import transformers.modeling_flash_attention_utils as fa_utils  # noqa: E402

import packjit  # noqa: E402
from packjit.integrations import automodel  # noqa: E402
from packjit.integrations import transformers as packjit_transformers  # noqa: E402

ORIGINAL_UNPAD = fa_utils._get_unpad_data
ORIGINAL_PREPARE = fa_utils.prepare_fa_kwargs_from_position_ids


@pytest.fixture(autouse=True)
def restore():
    yield
    automodel.unconfigure_packing()
    packjit_transformers.unpatch()


def test_patch_routes_both_entry_points_with_transformers_return_types():
    assert packjit_transformers.patch() == 2
    assert packjit_transformers.is_patched()
    position_ids = torch.tensor([[0, 1, 2, 0, 1, 0, 1, 2, 3]])
    (cu_q, cu_k), (max_q, max_k) = fa_utils.prepare_fa_kwargs_from_position_ids(position_ids)
    (want_q, _), (want_max, _) = ORIGINAL_PREPARE(position_ids)
    assert cu_k is cu_q and max_k is max_q
    assert cu_q.dtype == want_q.dtype == torch.int32 and torch.equal(cu_q, want_q)
    assert isinstance(max_q, torch.Tensor) and max_q.dim() == 0
    assert max_q.dtype == want_max.dtype and int(max_q) == int(want_max) == 4
    binary = torch.tensor([[1, 1, 1, 0], [0, 1, 1, 1]])
    for got, want in zip(fa_utils._get_unpad_data(binary), ORIGINAL_UNPAD(binary)):
        assert type(got) is type(want)
        assert (torch.equal(got, want) if isinstance(want, torch.Tensor) else got == want)
    indices, cu, max_seqlen = fa_utils._get_unpad_data(torch.tensor([[1, 1, 2, 2, 2, 0]]))
    assert cu.tolist() == [0, 2, 5] and max_seqlen == 3 and indices.tolist() == [0, 1, 2, 3, 4]
    packjit_transformers.unpatch()
    assert fa_utils._get_unpad_data is ORIGINAL_UNPAD
    assert fa_utils.prepare_fa_kwargs_from_position_ids is ORIGINAL_PREPARE
    assert not packjit_transformers.is_patched()


def test_patch_transformers_is_the_same_patch():
    assert packjit.patch_transformers() == 2
    assert fa_utils.prepare_fa_kwargs_from_position_ids.__packjit__
    packjit.unpatch_transformers()
    assert fa_utils.prepare_fa_kwargs_from_position_ids is ORIGINAL_PREPARE


def test_patch_rebinds_names_imported_into_other_modules():
    module = types.ModuleType("transformers.models.fake_import.modeling_fake_import")
    module.prepare_fa_kwargs_from_position_ids = ORIGINAL_PREPARE
    sys.modules[module.__name__] = module
    try:
        assert packjit_transformers.patch() == 3
        assert module.prepare_fa_kwargs_from_position_ids is (
            fa_utils.prepare_fa_kwargs_from_position_ids)
        packjit_transformers.unpatch()
        assert module.prepare_fa_kwargs_from_position_ids is ORIGINAL_PREPARE
    finally:
        del sys.modules[module.__name__]


def test_patch_without_any_entry_point_names_the_version(monkeypatch):
    monkeypatch.delattr(fa_utils, "_get_unpad_data")
    monkeypatch.delattr(fa_utils, "prepare_fa_kwargs_from_position_ids")
    version = sys.modules["transformers"].__version__
    with pytest.raises(RuntimeError, match=f"transformers {version} has none of"):
        packjit_transformers.patch()


def test_passthrough_keeps_packed_masks_and_delegates_normal_ones():
    from transformers import LlamaConfig

    config = LlamaConfig(hidden_size=64, num_attention_heads=4, num_hidden_layers=1)
    config._attn_implementation = "sdpa"
    embeds = torch.zeros(1, 4, 64)
    indexed = torch.tensor([[1, 1, 2, 2]])
    four_d = torch.ones(1, 1, 4, 4, dtype=torch.bool)
    passthrough = automodel._passthrough_create_causal_mask
    assert passthrough(config=config, inputs_embeds=embeds, attention_mask=indexed) is indexed
    assert passthrough(config=config, input_embeds=embeds, attention_mask=four_d) is four_d
    binary = torch.tensor([[1, 1, 1, 0]])
    expected = masking_utils.create_causal_mask(config=config, inputs_embeds=embeds,
                                                attention_mask=binary, past_key_values=None)
    got = passthrough(config=config, inputs_embeds=embeds, attention_mask=binary,
                      cache_position=torch.arange(4), past_key_values=None)
    assert torch.equal(got, expected) and got.dim() == 4
    config._attn_implementation = "flash_attention_2"
    assert passthrough(config=config, inputs_embeds=embeds, attention_mask=binary) is binary


def test_seed_mask_functions():
    mask = torch.tensor([[1, 1, 2, 2, 2, 0], [1, 2, 2, 3, 3, 3]])
    assert automodel.get_seqlens_in_batch(mask).tolist() == [2, 3, 1, 2, 3]
    indices, cu, max_seqlen = automodel.get_unpad_data(mask)
    assert indices.tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
    assert cu.tolist() == [0, 2, 5, 6, 8, 11] and cu.dtype == torch.int32 and max_seqlen == 3
    assert automodel.is_indexed_packed_mask(mask)
    assert not automodel.is_indexed_packed_mask(torch.tensor([[1, 1, 0]]))
    assert not automodel.is_indexed_packed_mask(None)
    assert not automodel.is_indexed_packed_mask(mask.bool())


def test_get_attn_implementation_like_the_seed():
    assert automodel.get_attn_implementation({"attn_implementation": "flash_attention_2"}) == (
        "flash_attention_2")
    assert automodel.get_attn_implementation({}) == "sdpa"
    assert automodel.get_attn_implementation(None) == "sdpa"
    custom = types.SimpleNamespace(backend=types.SimpleNamespace(attn="te"))
    assert automodel.get_attn_implementation(custom) == "te"


def test_configure_packing_patches_loaded_and_later_modules():
    import transformers.models.llama.modeling_llama as modeling_llama

    automodel.configure_packing("sdpa")  # nothing to do, as in the seed
    assert modeling_llama.create_causal_mask is masking_utils.create_causal_mask
    assert not packjit_transformers.is_patched()

    automodel.configure_packing("flash_attention_2")
    assert modeling_llama.create_causal_mask is automodel._passthrough_create_causal_mask
    assert fa_utils._get_unpad_data.__packjit__
    # A model module imported after configure_packing gets the passthrough.
    late = "transformers.models.qwen3.modeling_qwen3"
    saved = sys.modules.pop(late, None)
    try:
        module = importlib.import_module(late)
        assert module.create_causal_mask is automodel._passthrough_create_causal_mask
    finally:
        sys.modules.pop(late, None)
        if saved is not None:
            sys.modules[late] = saved
    automodel.unconfigure_packing()
    assert modeling_llama.create_causal_mask is masking_utils.create_causal_mask
    assert fa_utils._get_unpad_data is ORIGINAL_UNPAD


def test_preprocess_shim_keeps_indexed_masks_for_flash_attention():
    from transformers import LlamaConfig

    automodel.configure_packing("flash_attention_2")
    config = LlamaConfig(hidden_size=64, num_attention_heads=4, num_hidden_layers=1)
    config._attn_implementation = "flash_attention_2"
    indexed = torch.tensor([[1, 1, 2, 2, 0]])
    # Through the sliding-window builder, which keeps calling transformers'
    # preprocessing: the indexed mask is not cast to bool.
    config.sliding_window = 2
    out = masking_utils.create_sliding_window_causal_mask(
        config=config, inputs_embeds=torch.zeros(1, 5, 64), attention_mask=indexed,
        past_key_values=None)
    assert out is indexed


def test_configure_packing_fails_closed(monkeypatch):
    monkeypatch.delattr(fa_utils, "_get_unpad_data")
    version = sys.modules["transformers"].__version__
    with pytest.raises(RuntimeError, match=f"transformers {version} has no .*_get_unpad_data"):
        automodel.configure_packing("flash_attention_2")
    monkeypatch.undo()
    monkeypatch.delattr(masking_utils, "_preprocess_mask_arguments")
    with pytest.raises(RuntimeError, match="_preprocess_mask_arguments"):
        automodel.configure_packing("packjit_varlen")
