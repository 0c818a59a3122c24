"""Tiny checkpoints of five architectures, in every weights format, saved and loaded back."""

import warnings

import numpy as np
import pytest

from tf_pipeline import UntrainedHeadWarning, load_checkpoint, load_pipeline
from tiny_models import ARCHITECTURES, LABELS

TEXTS = ["the film was wonderful", "hardly worth it!! 😀 東京", "not bad at all " * 30]


def _in_memory_logits(model, tokenizer, max_length=64):
    inputs = tokenizer(TEXTS, padding=True, truncation=True, max_length=max_length, return_tensors="tf")
    return model(**inputs, training=False).logits.numpy()


def _load_quietly(folder, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UntrainedHeadWarning)
        return load_pipeline(folder, **options)


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_saved_and_loaded_gives_same_logits(tiny_checkpoint, architecture):
    folder, model, tokenizer = tiny_checkpoint(architecture)
    pipe = _load_quietly(folder)
    assert type(pipe.model) is type(model)
    np.testing.assert_allclose(pipe.run(TEXTS)["logits"], _in_memory_logits(model, tokenizer), atol=1e-5)
    assert pipe.labels == [LABELS[i] for i in range(3)]
    assert {r["label"] for r in pipe(TEXTS)} <= set(LABELS.values())


@pytest.mark.parametrize(
    "weights, options",
    [("pt", {"shards": 3}), ("h5", {}), ("tf-safetensors", {})],
    ids=["sharded-safetensors", "tf_model.h5", "tf-safetensors"],
)
def test_weight_formats(tiny_checkpoint, weights, options):
    folder, model, tokenizer = tiny_checkpoint("bert", weights=weights, **options)
    pipe = _load_quietly(folder)
    np.testing.assert_allclose(pipe.run(TEXTS)["logits"], _in_memory_logits(model, tokenizer), atol=1e-5)


def test_base_model_checkpoint_gets_new_head_and_a_warning(tiny_checkpoint):
    folder, base_model, tokenizer = tiny_checkpoint("bert", base=True)
    with pytest.warns(UntrainedHeadWarning, match="untrained|no trained classification head"):
        pipe = load_pipeline(folder)
    inputs = tokenizer(TEXTS, padding=True, truncation=True, return_tensors="tf")
    encoder = pipe.model.bert(**inputs, training=False).last_hidden_state.numpy()
    np.testing.assert_allclose(encoder, base_model(**inputs, training=False).last_hidden_state.numpy(), atol=1e-5)


def test_load_base_model_for_features(tiny_checkpoint):
    folder, model, tokenizer = tiny_checkpoint("distilbert")
    checkpoint = load_checkpoint(folder, task="feature-extraction")
    assert checkpoint.model.__class__.__name__ == "TFDistilBertModel"


def test_label_overrides(tiny_checkpoint):
    folder, _, _ = tiny_checkpoint("bert")
    assert _load_quietly(folder, id2label=["bad", "meh", "good"]).labels == ["bad", "meh", "good"]
    assert _load_quietly(folder, id2label={0: "a", 1: "b", 2: "c"}).config.label2id == {"a": 0, "b": 1, "c": 2}
    with pytest.warns(UntrainedHeadWarning):
        pipe = load_pipeline(folder, num_labels=5)
    assert pipe.labels == [f"LABEL_{i}" for i in range(5)]
    assert pipe(["good film"], top_k=None)[0].__len__() == 5


def test_multi_label_config_uses_sigmoid_like_hf(tiny_checkpoint):
    from transformers import TextClassificationPipeline as HFPipeline

    folder, _, _ = tiny_checkpoint("bert", problem_type="multi_label_classification")
    pipe = _load_quietly(folder)
    hf = HFPipeline(model=pipe.model, tokenizer=pipe.tokenizer, framework="tf")
    ours, theirs = pipe(TEXTS[:2], top_k=None), hf(TEXTS[:2], top_k=None)
    for a, b in zip(ours, theirs):
        assert [x["label"] for x in a] == [x["label"] for x in b]
        np.testing.assert_allclose([x["score"] for x in a], [x["score"] for x in b], atol=1e-5)
    logits = pipe.run(TEXTS[:1])["logits"]
    assert ours[0][0]["score"] == pytest.approx(float(1 / (1 + np.exp(-np.max(logits)))), abs=1e-6)


def test_very_long_text_is_truncated(tiny_checkpoint):
    folder, _, _ = tiny_checkpoint("bert")
    pipe = _load_quietly(folder)
    long_text = "word " * 100_000
    assert pipe.preprocess([long_text])["input_ids"].shape == (1, 64)
    assert len(pipe([long_text, "short"])) == 2
    short = _load_quietly(folder, max_length=10)
    assert short.preprocess([long_text])["input_ids"].shape == (1, 10)
