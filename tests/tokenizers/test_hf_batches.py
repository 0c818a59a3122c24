"""Token-count batching (tokenizers/hf.py): each batch holds exactly the ids the HF tokenizer gives
those texts together, and batches go from fewest to most tokens."""

from __future__ import annotations

import numpy as np
import pytest

from tf_pipeline.tokenizers.hf import encode, pad_rows, pad_values, token_sorted_batches
from tiny_models import CORPUS

TEXTS = [" ".join(CORPUS[:count]) for count in (3, 1, 12, 2, 40, 5)] + ["x" * 60, "a b c d e f g"]


@pytest.mark.parametrize("side", ["right", "left"])
def test_each_batch_is_what_the_tokenizer_pads_for_those_texts(tiny_checkpoint, side):
    tokenizer = tiny_checkpoint("bert")[2]
    names = ["input_ids", "token_type_ids", "attention_mask"]
    tokenizer.padding_side = side
    try:
        batches = list(token_sorted_batches(tokenizer, TEXTS, 3, 24, names))
        expected = [encode(tokenizer, [TEXTS[index] for index in indices], 24, "np") for indices, _ in batches]
    finally:
        tokenizer.padding_side = "right"
    assert sorted(index for indices, _ in batches for index in indices) == list(range(len(TEXTS)))
    for (_, ids), want in zip(batches, expected):
        assert list(ids) == names
        for name in names:
            assert ids[name].dtype == np.int32
            np.testing.assert_array_equal(ids[name], want[name])


def test_batches_go_by_token_count_not_characters(tiny_checkpoint):
    tokenizer = tiny_checkpoint("bert")[2]
    counts = [len(ids) for ids in encode(tokenizer, TEXTS, 24, None, padding=False)["input_ids"]]
    order = [index for indices, _ in token_sorted_batches(tokenizer, TEXTS, 2, 24, ["input_ids"]) for index in indices]
    assert [counts[index] for index in order] == sorted(counts)
    assert order != sorted(range(len(TEXTS)), key=lambda index: len(TEXTS[index]))  # the two orders differ here


def test_pad_rows_fills_each_input_with_its_pad_value(tiny_checkpoint):
    tokenizer = tiny_checkpoint("bert")[2]
    columns = {"input_ids": [[5, 6, 7], [5]], "token_type_ids": [[1, 1, 1], [1]], "attention_mask": [[1, 1, 1], [1]]}
    padded = pad_rows(columns, [1, 0], pad_values(tokenizer))
    np.testing.assert_array_equal(padded["input_ids"], [[5, tokenizer.pad_token_id, tokenizer.pad_token_id], [5, 6, 7]])
    np.testing.assert_array_equal(padded["token_type_ids"], [[1, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(padded["attention_mask"], [[1, 0, 0], [1, 1, 1]])
