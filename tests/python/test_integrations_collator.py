"""PackedCollator against transformers' DataCollatorWithFlattening."""

import itertools

import numpy as np
import pytest
import torch

transformers = pytest.importorskip(
    "transformers", minversion="5.0",
    reason="packjit.integrations needs transformers >= 5 (the torch 2.11 venv has 5.23)")

from transformers import DataCollatorWithFlattening  # noqa: E402

from packed_masks import generator, random_packed_mask  # noqa: E402
from packjit.integrations.transformers import PackedCollator  # noqa: E402

FLAGS = ("return_position_ids", "return_flash_attn_kwargs", "return_seq_idx")


def random_examples(seed, count, kind, with_labels):
    g = generator("examples", seed, count, kind, with_labels)
    examples = []
    for _ in range(count):
        length = int(torch.randint(1, 40, (1,), generator=g))
        ids = torch.randint(0, 50000, (length,), generator=g)
        labels = torch.randint(-100, 50000, (length,), generator=g)
        example = {"input_ids": ids, "attention_mask": [1] * length}
        if with_labels:
            example["labels"] = labels
        for key in ("input_ids", "labels"):
            if key in example:
                value = example[key]
                example[key] = {"list": value.tolist(), "tensor": value,
                                "array": value.numpy()}[kind]
        examples.append(example)
    return examples


def assert_same_batch(actual, expected):
    assert list(actual) == list(expected)
    for key, want in expected.items():
        got = actual[key]
        assert type(got) is type(want), key
        if isinstance(want, torch.Tensor):
            assert got.dtype == want.dtype and got.shape == want.shape, key
            assert torch.equal(got, want), key
        elif isinstance(want, np.ndarray):
            assert got.dtype == want.dtype and got.shape == want.shape, key
            assert np.array_equal(got, want), key
        else:
            assert got == want, key


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=len(FLAGS))))
@pytest.mark.parametrize("position_ids_start", [0, 2])
@pytest.mark.parametrize("return_tensors", ["pt", "np"])
def test_every_argument_combination_matches_transformers(flags, position_ids_start,
                                                         return_tensors):
    kwargs = dict(zip(FLAGS, flags), position_ids_start=position_ids_start,
                  return_tensors=return_tensors, separator_id=-7)
    ours, theirs = PackedCollator(**kwargs), DataCollatorWithFlattening(**kwargs)
    for seed, (kind, with_labels) in enumerate(itertools.product(["list", "tensor", "array"],
                                                                 [False, True])):
        examples = random_examples(seed, 1 + seed % 5, kind, with_labels)
        assert_same_batch(ours(examples), theirs(examples))


def test_call_arguments_override_the_constructor():
    examples = random_examples(0, 4, "list", True)
    ours, theirs = PackedCollator(), DataCollatorWithFlattening()
    assert_same_batch(ours(examples, return_tensors="np", separator_id=3),
                      theirs(examples, return_tensors="np", separator_id=3))
    with pytest.raises(ValueError, match="return_tensors"):
        ours(examples, return_tensors="tf")


def test_positional_return_tensors_like_transformers():
    examples = random_examples(1, 3, "tensor", False)
    assert_same_batch(PackedCollator("np")(examples), DataCollatorWithFlattening("np")(examples))


@pytest.mark.parametrize("seed", range(4))
def test_padded_batch_with_an_indexed_mask_equals_its_documents_flattened(seed):
    g = generator("padded", seed)
    mask = random_packed_mask(3, 24, g, docs_per_row=4)
    input_ids = torch.randint(0, 1000, mask.shape, generator=g)
    labels = torch.randint(-100, 1000, mask.shape, generator=g)
    # A document: the tokens of one id in a row (padding inside a run of one
    # id does not split it, as get_unpad_data counts them).
    documents = []
    for row in range(mask.shape[0]):
        kept = torch.nonzero(mask[row]).flatten().tolist()
        for position in kept:
            if documents and documents[-1][0] == row and (
                    mask[row, documents[-1][1][-1]] == mask[row, position]):
                documents[-1][1].append(position)
            else:
                documents.append((row, [position]))
    examples = [{"input_ids": input_ids[r, p], "labels": labels[r, p]} for r, p in documents]
    kwargs = dict(return_flash_attn_kwargs=True, return_seq_idx=True)
    batch = {"input_ids": input_ids, "attention_mask": mask, "labels": labels}
    if not examples:
        return
    assert_same_batch(PackedCollator(**kwargs)(batch),
                      DataCollatorWithFlattening(**kwargs)(examples))
    no_labels = {"input_ids": input_ids, "attention_mask": mask}
    expected = DataCollatorWithFlattening(**kwargs)(
        [{"input_ids": e["input_ids"]} for e in examples])
    assert_same_batch(PackedCollator(**kwargs)(no_labels), expected)


def test_binary_padded_batch_is_one_document_per_row():
    batch = {"input_ids": torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0]]),
             "attention_mask": torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])}
    out = PackedCollator(return_flash_attn_kwargs=True)(batch)
    assert out["input_ids"].tolist() == [[5, 6, 7, 8, 9]]
    assert out["labels"].tolist() == [[-100, 6, 7, -100, 9]]
    assert out["position_ids"].tolist() == [[0, 1, 2, 0, 1]]
    assert out["cu_seq_lens_q"].tolist() == [0, 3, 5] and out["max_length_q"] == 3


def test_inconsistent_examples_are_errors():
    with pytest.raises(ValueError, match="example 1 has no input_ids"):
        PackedCollator()([{"input_ids": [1]}, {"input_ids": []}])
    with pytest.raises(ValueError, match="example 0 has 2 labels for 3 input_ids"):
        PackedCollator()([{"input_ids": [1, 2, 3], "labels": [1, 2]}])
    with pytest.raises(ValueError, match="shape"):
        PackedCollator()({"input_ids": torch.zeros(2, 3, dtype=torch.long),
                          "attention_mask": torch.ones(2, 4, dtype=torch.long)})


def test_is_a_data_collator_with_flattening():
    assert isinstance(PackedCollator(), DataCollatorWithFlattening)
