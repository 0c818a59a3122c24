"""Each bad input gets its documented error from tf_pipeline.errors."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tf_pipeline import (
    BrokenCheckpointError,
    CheckpointNotFoundError,
    InvalidInputError,
    TokenizerNotFoundError,
    UnsupportedModelError,
    WeightsNotFoundError,
    load_pipeline,
)


@pytest.fixture
def bert_copy(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("bert")
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    return copy


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="No such local folder"):
        load_pipeline(tmp_path / "nope")
    with pytest.raises(CheckpointNotFoundError, match="config.json"):
        load_pipeline(tmp_path)


def test_no_weights(bert_copy):
    (bert_copy / "model.safetensors").unlink()
    with pytest.raises(WeightsNotFoundError, match="no weights"):
        load_pipeline(bert_copy)
    (bert_copy / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(WeightsNotFoundError, match="torch"):
        load_pipeline(bert_copy)


def test_broken_weights(bert_copy):
    (bert_copy / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(BrokenCheckpointError, match="safetensors"):
        load_pipeline(bert_copy)


def test_truncated_weights(bert_copy):
    data = (bert_copy / "model.safetensors").read_bytes()
    (bert_copy / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(BrokenCheckpointError):
        load_pipeline(bert_copy)


def test_broken_config(bert_copy):
    (bert_copy / "config.json").write_text("{not json")
    with pytest.raises(BrokenCheckpointError, match="config.json"):
        load_pipeline(bert_copy)


def test_weights_of_another_architecture(tiny_checkpoint, bert_copy):
    roberta, _, _ = tiny_checkpoint("roberta")
    shutil.copy(roberta / "config.json", bert_copy / "config.json")
    with pytest.raises(BrokenCheckpointError, match="fit"):
        load_pipeline(bert_copy)


def test_unsupported_model_type(bert_copy):
    (bert_copy / "config.json").write_text(json.dumps({"model_type": "llama", "vocab_size": 10}))
    with pytest.raises(UnsupportedModelError, match="llama"):
        load_pipeline(bert_copy)


def test_tokenizer_missing(bert_copy):
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (bert_copy / name).unlink(missing_ok=True)
    with pytest.raises(TokenizerNotFoundError, match="tokenizer"):
        load_pipeline(bert_copy)


@pytest.mark.parametrize(
    "texts, message",
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        (["fine", "\u3000"], "text 1 is empty"),
        ([1, 2], "text 0 is not a string \\(got int\\)"),
        (["ok", None], "text 1 is not a string \\(got NoneType\\)"),
        (["ok", "half a pair \ud800"], "text 1 is not valid Unicode"),
        ({"txt": "a dict"}, "must have the key 'text'"),
        (b"bytes", "string or a list"),
    ],
)
def test_bad_texts(tiny_checkpoint, texts, message):
    folder, _, _ = tiny_checkpoint("bert")
    pipe = load_pipeline(folder)
    with pytest.raises(InvalidInputError, match=message):
        pipe(texts)
    with pytest.raises(InvalidInputError):
        pipe.preprocess(texts)


def test_empty_list_gives_empty_answer(tiny_checkpoint):
    pipe = load_pipeline(tiny_checkpoint("bert")[0])
    assert pipe([]) == []
    assert pipe([], top_k=None) == []


def test_bad_arguments(tiny_checkpoint):
    folder, _, _ = tiny_checkpoint("bert")
    pipe = load_pipeline(folder)
    for kwargs, message in [
        ({"top_k": -1}, "top_k"),
        ({"batch_size": 0}, "batch_size"),
        ({"function_to_apply": "relu"}, "function_to_apply"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            pipe(["text"], **kwargs)
    with pytest.raises(InvalidInputError, match="exceeds"):
        load_pipeline(folder, max_length=10_000)
    with pytest.raises(InvalidInputError, match="disagrees"):
        load_pipeline(folder, num_labels=2, id2label=["a", "b", "c"])


def test_wrong_forward_inputs(tiny_checkpoint):
    pipe = load_pipeline(tiny_checkpoint("bert")[0])
    inputs = pipe.preprocess(["some text"])
    with pytest.raises(InvalidInputError, match="missing attention_mask"):
        pipe.forward({"input_ids": inputs["input_ids"], "token_type_ids": inputs["token_type_ids"]})
    with pytest.raises(InvalidInputError, match="integer"):
        pipe.forward({name: tf.cast(t, tf.float32) + 0.5 for name, t in inputs.items()})
    with pytest.raises(InvalidInputError, match="shape"):
        pipe.forward({name: np.ones([1, 2, 3], np.int32) for name in inputs})
