"""The packjit Python package end to end: library loading, every op, errors,
docstrings, and patching a (fake) transformers."""

import os
import re
import sys
import types
from pathlib import Path

import pytest
import torch

import packjit

MASK = [[1, 1, 2, 2, 2, 0], [1, 2, 2, 3, 3, 3]]
INDICES = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
CU_SEQLENS = [0, 2, 5, 6, 8, 11]
MASK_DTYPES = [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]


def test_library_path_is_the_one_in_the_environment_or_the_package():
    """PACKJIT_LIBRARY when set (the build tree's tests), else the copy that
    pip installed into the package (packjit/lib/)."""
    env = os.environ.get("PACKJIT_LIBRARY")
    expected = Path(env) if env else Path(packjit.__file__).parent / "lib" / "libpackjit_torch.so"
    assert packjit.library_path() == expected
    assert packjit.load_library() == expected
    assert packjit.library_path().is_file()
    assert packjit.build_info()["torch"]  # the build says which torch it was for


@pytest.mark.parametrize("version, release", [
    ("2.11.0+cu130", "2.11"), ("1.13.0a0", "1.13"), ("1.13.0", "1.13"), ("2.4", "2.4")])
def test_a_torch_release_is_its_major_minor(version, release):
    assert packjit._library._release(version) == release


def test_a_library_built_for_another_torch_is_refused(tmp_path, monkeypatch):
    """load_library reads packjit_build.json beside the library and refuses a
    library built for another torch release, naming both, before loading it."""
    library = tmp_path / "libpackjit_torch.so"
    library.write_bytes(b"not loaded")
    (tmp_path / packjit._library._BUILD_INFO).write_text('{"torch": "0.1.0"}')
    monkeypatch.setattr(packjit._library, "_loaded_path", None)
    monkeypatch.setattr(packjit._library, "library_path", lambda: library)
    assert packjit.build_info(library) == {"torch": "0.1.0"}
    with pytest.raises(RuntimeError, match=r"built against torch 0\.1\.0, but this Python "
                                           r"has torch " + torch.__version__.replace("+", r"\+")):
        packjit._library.load_library()


def test_ops_are_registered_with_torch():
    for name in ("get_unpad_data", "get_seqlens_in_batch",
                 "is_indexed_packed_mask", "cu_seqlens_from_position_ids"):
        assert hasattr(torch.ops.packjit, name)


@pytest.mark.parametrize("dtype", MASK_DTYPES)
def test_get_unpad_data_design_example(dtype):
    indices, cu_seqlens, max_seqlen = packjit.get_unpad_data(
        torch.tensor(MASK, dtype=dtype))
    assert indices.dtype == torch.int64
    assert cu_seqlens.dtype == torch.int32
    assert indices.tolist() == INDICES
    assert cu_seqlens.tolist() == CU_SEQLENS
    assert isinstance(max_seqlen, int) and max_seqlen == 3


def test_get_unpad_data_bool_mask_is_binary():
    mask = torch.tensor(MASK) != 0
    indices, cu_seqlens, max_seqlen = packjit.get_unpad_data(mask)
    assert indices.tolist() == INDICES
    assert cu_seqlens.tolist() == [0, 5, 11]
    assert max_seqlen == 6


def test_get_unpad_data_all_padding_and_strided_views():
    indices, cu_seqlens, max_seqlen = packjit.get_unpad_data(
        torch.zeros(2, 3, dtype=torch.int32))
    assert indices.dtype == torch.int64 and indices.numel() == 0
    assert cu_seqlens.tolist() == [0] and max_seqlen == 0
    transposed = torch.tensor(MASK).t().contiguous().t()
    assert not transposed.is_contiguous()
    assert packjit.get_unpad_data(transposed)[1].tolist() == CU_SEQLENS


def test_strict_false_counts_runs():
    mask = torch.tensor([[1, 2, 1]])
    _, cu_seqlens, max_seqlen = packjit.get_unpad_data(mask, strict=False)
    assert cu_seqlens.tolist() == [0, 1, 2, 3] and max_seqlen == 1
    assert packjit.get_seqlens_in_batch(mask, strict=False).tolist() == [1, 1, 1]


@pytest.mark.parametrize("dtype,expected", [
    (torch.int64, torch.int64), (torch.int32, torch.int32),
    (torch.int16, torch.int32), (torch.int8, torch.int32),
    (torch.uint8, torch.int32), (torch.bool, torch.int32)])
def test_get_seqlens_in_batch_dtype(dtype, expected):
    lengths = packjit.get_seqlens_in_batch(torch.tensor(MASK).to(dtype))
    assert lengths.dtype == expected
    assert lengths.tolist() == ([5, 6] if dtype == torch.bool else [2, 3, 1, 2, 3])


def test_is_indexed_packed_mask():
    assert packjit.is_indexed_packed_mask(None) is False
    assert packjit.is_indexed_packed_mask(torch.tensor(MASK) != 0) is False
    assert packjit.is_indexed_packed_mask(torch.tensor([[1, 1, 0]])) is False
    assert packjit.is_indexed_packed_mask(torch.tensor([3, 3])) is False
    assert packjit.is_indexed_packed_mask(torch.zeros(0, 4, dtype=torch.long)) is False
    assert packjit.is_indexed_packed_mask(torch.tensor(MASK)) is True


def test_cu_seqlens_from_position_ids():
    flat = torch.tensor([0, 1, 2, 0, 1, 0])
    for positions in (flat, flat.unsqueeze(0)):
        cu_seqlens, max_seqlen = packjit.cu_seqlens_from_position_ids(positions)
        assert cu_seqlens.dtype == torch.int32
        assert cu_seqlens.tolist() == [0, 3, 5, 6] and max_seqlen == 3
    roberta = torch.tensor([[2, 3, 4, 2, 3]])
    assert packjit.cu_seqlens_from_position_ids(roberta)[0].tolist() == [0, 3, 5]
    batch = torch.tensor([[0, 1, 2], [0, 1, 0]], dtype=torch.int32)
    assert packjit.cu_seqlens_from_position_ids(batch)[0].tolist() == [0, 3, 5, 6]
    gap = torch.tensor([0, 1, 3])
    assert packjit.cu_seqlens_from_position_ids(gap, strict=False)[0].tolist() == [0, 3]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:  # 1-D ids are named by one index (the CUDA path asks the CPU's)
        with pytest.raises(RuntimeError, match=r"position_ids\[2\] = 3 follows 1"):
            packjit.cu_seqlens_from_position_ids(gap.to(device))
        with pytest.raises(RuntimeError, match=r"position_ids\[0, 2\] = 3 follows 1"):
            packjit.cu_seqlens_from_position_ids(gap.unsqueeze(0).to(device))
    empty = packjit.cu_seqlens_from_position_ids(torch.zeros(0, dtype=torch.long))
    assert empty[0].tolist() == [0] and empty[1] == 0


def test_errors_become_runtime_errors_with_the_message():
    with pytest.raises(RuntimeError, match=r"attention_mask\[0, 2\] = 1 is smaller"):
        packjit.get_unpad_data(torch.tensor([[1, 2, 1]]))
    with pytest.raises(RuntimeError, match=r"attention_mask\[0, 1\] = -1 is negative"):
        packjit.get_unpad_data(torch.tensor([[1, -1]]), strict=False)
    with pytest.raises(RuntimeError, match="should be a 2-D"):
        packjit.get_unpad_data(torch.ones(4, dtype=torch.long))
    with pytest.raises(RuntimeError, match="integer or bool tensor"):
        packjit.get_seqlens_in_batch(torch.ones(2, 2))
    with pytest.raises(RuntimeError, match="more than cu_seqlens"):
        packjit.get_unpad_data(torch.ones(1, 1, dtype=torch.uint8).expand(2, 2**30))


def test_every_public_function_has_a_docstring():
    for name in packjit.__all__:
        function = getattr(packjit, name)
        assert callable(function), name
        assert function.__doc__ and function.__doc__.strip(), name
    assert packjit.__doc__ and "get_unpad_data" in packjit.__doc__
    assert "strict" in packjit.get_unpad_data.__doc__


# --- patch_transformers against fake transformers modules ---------------------

FA_UTILS = "transformers.modeling_flash_attention_utils"


def _original_get_unpad_data(attention_mask):
    return "original"


@pytest.fixture
def fake_transformers():
    """Puts transformers, its flash-attention utils and a model module that did
    ``from ..modeling_flash_attention_utils import _get_unpad_data`` into
    sys.modules; removes them (and any patch) afterwards."""
    names = ["transformers", FA_UTILS, "transformers.models.fake.modeling_fake",
             "transformers_unrelated"]
    saved = {name: sys.modules.get(name) for name in names}
    root = types.ModuleType("transformers")
    utils = types.ModuleType(FA_UTILS)
    utils._get_unpad_data = _original_get_unpad_data
    model = types.ModuleType(names[2])
    model._get_unpad_data = utils._get_unpad_data
    unrelated = types.ModuleType("transformers_unrelated")
    unrelated._get_unpad_data = _original_get_unpad_data
    for module in (root, utils, model, unrelated):
        sys.modules[module.__name__] = module
    yield types.SimpleNamespace(root=root, utils=utils, model=model,
                                unrelated=unrelated)
    packjit.unpatch_transformers()
    for name, module in saved.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module


def test_patch_replaces_both_the_function_and_names_imported_from_it(fake_transformers):
    count = packjit.patch_transformers()
    assert count == 2
    utils, model = fake_transformers.utils, fake_transformers.model
    assert utils._get_unpad_data is not _original_get_unpad_data
    assert model._get_unpad_data is utils._get_unpad_data
    assert fake_transformers.unrelated._get_unpad_data is _original_get_unpad_data
    assert not hasattr(fake_transformers.root, "_get_unpad_data")
    indices, cu_seqlens, max_seqlen = model._get_unpad_data(torch.tensor(MASK))
    assert indices.tolist() == INDICES
    assert cu_seqlens.tolist() == CU_SEQLENS and max_seqlen == 3
    assert utils._get_unpad_data.__doc__ == packjit.get_unpad_data.__doc__


def test_patch_is_idempotent_and_unpatch_restores(fake_transformers):
    assert packjit.patch_transformers() == 2
    assert packjit.patch_transformers() == 2
    packjit.unpatch_transformers()
    assert fake_transformers.utils._get_unpad_data is _original_get_unpad_data
    assert fake_transformers.model._get_unpad_data is _original_get_unpad_data
    assert fake_transformers.utils._get_unpad_data(None) == "original"


def test_patch_strict_setting(fake_transformers):
    decreasing = torch.tensor([[1, 2, 1]])
    packjit.patch_transformers()
    with pytest.raises(RuntimeError, match="strict mode"):
        fake_transformers.utils._get_unpad_data(decreasing)
    packjit.patch_transformers(strict=False)
    _, cu_seqlens, _ = fake_transformers.model._get_unpad_data(decreasing)
    assert cu_seqlens.tolist() == [0, 1, 2, 3]
    packjit.unpatch_transformers()
    assert fake_transformers.model._get_unpad_data is _original_get_unpad_data


def test_patch_binary_mask_like_transformers(fake_transformers):
    packjit.patch_transformers()
    binary = torch.tensor([[1, 1, 1, 0], [0, 1, 1, 1]], dtype=torch.int32)
    indices, cu_seqlens, max_seqlen = fake_transformers.utils._get_unpad_data(binary)
    assert indices.tolist() == [0, 1, 2, 5, 6, 7]
    assert cu_seqlens.tolist() == [0, 3, 6] and max_seqlen == 3


def test_patch_without_transformers_raises_import_error():
    saved = {name: sys.modules.pop(name) for name in list(sys.modules)
             if name == "transformers" or name.startswith("transformers.")}
    try:
        try:
            import transformers  # noqa: F401
            pytest.skip("transformers is installed")
        except ImportError:
            pass
        with pytest.raises(ImportError):
            packjit.patch_transformers()
    finally:
        sys.modules.update(saved)


def test_unpatch_restores_modules_imported_after_the_patch(fake_transformers):
    packjit.patch_transformers()
    late = types.ModuleType("transformers.models.late.modeling_late")
    late._get_unpad_data = fake_transformers.utils._get_unpad_data
    sys.modules[late.__name__] = late
    try:
        packjit.unpatch_transformers()
        assert late._get_unpad_data is _original_get_unpad_data
    finally:
        sys.modules.pop(late.__name__, None)


def test_patch_leaves_lazy_alias_modules_alone(fake_transformers):
    """transformers 5 keeps deprecated module names as aliases whose
    ``__getattr__`` imports their target; patching must not trigger it."""
    alias = types.ModuleType("transformers.tokenization_utils_fast")

    def import_target(name):
        raise ModuleNotFoundError("alias target imported by " + name)

    alias.__getattr__ = import_target
    sys.modules[alias.__name__] = alias
    try:
        assert packjit.patch_transformers() == 2
        packjit.unpatch_transformers()
        assert fake_transformers.model._get_unpad_data is _original_get_unpad_data
    finally:
        sys.modules.pop(alias.__name__, None)


def test_a_missing_tensor_names_the_op_and_argument():
    # issue #13: the dispatcher's own message said "no tensor arguments".
    for call, message in [
        (lambda: packjit.get_unpad_data(None), "get_unpad_data: attention_mask should be a tensor, got None"),
        (lambda: packjit.get_seqlens_in_batch([[1, 1]]), "get_seqlens_in_batch: attention_mask should be a tensor, got list"),
        (lambda: packjit.get_unpad_data_padded(None), "get_unpad_data_padded: attention_mask"),
        (lambda: packjit.cu_seqlens_from_position_ids(None), "cu_seqlens_from_position_ids: position_ids should be a tensor"),
        (lambda: packjit.cu_seqlens_from_position_ids_padded(None), "cu_seqlens_from_position_ids_padded: position_ids"),
    ]:
        with pytest.raises(TypeError, match=message):
            call()


def test_meta_tensors_name_the_op():
    """A meta tensor has no values: ops whose results depend on them say so;
    the shape-only ops run through their fake kernels (torch >= 2.4) or say
    that they need them (the dispatcher said "Could not run ... 'Meta'")."""
    mask = torch.ones(2, 3, dtype=torch.int64, device="meta")
    for call, op in ((lambda: packjit.get_unpad_data(mask), "get_unpad_data"),
                     (lambda: packjit.get_seqlens_in_batch(mask), "get_seqlens_in_batch"),
                     (lambda: packjit.is_indexed_packed_mask(mask), "is_indexed_packed_mask"),
                     (lambda: packjit.cu_seqlens_from_position_ids(mask),
                      "cu_seqlens_from_position_ids"),
                     (lambda: packjit.unpad_input_from_mask(torch.ones(2, 3, 4), mask),
                      "unpad_input_from_mask")):
        with pytest.raises(NotImplementedError,
                           match=f"packjit.{op}: .* is a meta tensor, but the op's result "
                                 "depends on its values"):
            call()
    hidden = torch.ones(2, 3, 4, device="meta")
    indices = torch.arange(3, device="meta")
    shape_only = {"unpad_input": lambda: packjit.unpad_input(hidden, indices),
                  "pad_input": lambda: packjit.pad_input(hidden[0], indices, 2, 3),
                  "unpad_inputs": lambda: packjit.unpad_inputs([hidden], indices)[0],
                  "get_unpad_data_padded": lambda: packjit.get_unpad_data_padded(mask)[0]}
    for op, call in shape_only.items():
        if packjit._ops._HAS_FAKE_KERNELS:
            assert call().is_meta
        else:
            with pytest.raises(NotImplementedError,
                               match=f"packjit.{op}: .* meta tensors run through packjit's "
                                     "fake kernels, which need torch >= 2.4"):
                call()


def test_a_library_missing_some_ops_is_refused_at_load(monkeypatch):
    """Another version's library registers packjit ops, but not all: refused
    when it loads, naming the path and the ops it lacks (it used to import,
    then raise AttributeError at the first call)."""
    path = packjit.library_path()
    monkeypatch.setattr(packjit._library, "_loaded_path", None)
    monkeypatch.setattr(packjit._library, "_REQUIRED_OPS",
                        packjit._library._REQUIRED_OPS + ("no_such_op",))
    with pytest.raises(RuntimeError, match=re.escape(str(path)) +
                       r" registers packjit ops but not no_such_op: it is another "
                       r"version's op library"):
        packjit._library.load_library()
