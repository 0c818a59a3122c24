"""The three steps on the default weights: token ids, the compiled forward, HF-compatible output."""

import numpy as np
import pytest
import tensorflow as tf
from transformers import TextClassificationPipeline as HFTextClassificationPipeline

from conftest import SEED_SENTENCES, assert_same_answers

SEED_IDS = [
    [101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012, 102],
    [101, 1045, 5223, 2023, 2061, 2172, 999, 102, 0, 0, 0, 0, 0, 0, 0, 0],
]
SEED_MASK = [[1] * 16, [1] * 8 + [0] * 8]
TEXTS = SEED_SENTENCES + [
    "The hotel was clean, quiet and the staff were lovely.",
    "Not bad at all!",
    "Worst. Purchase. Ever. 😡",
    "Ça coûte très cher, mais le café était délicieux.",
    "東京の天気は晴れです",
]


def test_seed_token_ids_and_mask(default_pipe):
    inputs = default_pipe.preprocess(SEED_SENTENCES)
    assert isinstance(inputs["input_ids"], tf.Tensor)
    assert inputs["input_ids"].numpy().tolist() == SEED_IDS
    assert inputs["attention_mask"].numpy().tolist() == SEED_MASK


def test_default_model_classifies_sentiment(default_pipe):
    """The default is the shipped encoder fine-tuned on the shipped sentiment set (built on first use).

    Measured at build time on 2 cores: held-out 94.1%; the threshold leaves room for floating-point
    differences between CPUs. Accuracy on the independent evaluation split is reported
    (metrics.json, docs/training.md), not asserted.
    """
    from tf_pipeline.training.data import sentiment_set
    from tf_pipeline.training.evaluate import evaluate

    assert default_pipe.labels == ["NEGATIVE", "POSITIVE"]
    negative = default_pipe(SEED_SENTENCES[1])[0]
    assert negative["label"] == "NEGATIVE" and negative["score"] >= 0.9
    assert evaluate(default_pipe, sentiment_set("heldout"))["accuracy"] >= 0.92


def test_default_model_on_the_seeds_positive_sentence(default_pipe):
    positive = default_pipe(SEED_SENTENCES[0])[0]
    assert positive["label"] == "POSITIVE" and positive["score"] >= 0.9


def test_pipeline_exposes_tokenizer_model_config(default_pipe):
    assert default_pipe.tokenizer.__class__.__name__.startswith("Bert")
    assert default_pipe.model.__class__.__name__ == "TFBertForSequenceClassification"
    assert default_pipe.config.hidden_size == 384
    assert default_pipe.max_length == 512


def test_forward_traces_once_for_new_batch_sizes_and_lengths(default_pipe):
    forward = default_pipe.compiled_forward
    default_pipe.run(["first"])["logits"]
    traced = forward.experimental_get_tracing_count()  # 1, or 2 when this load wrote the forward cache (saving traces)
    assert traced in (1, 2)
    for texts in (["short"], TEXTS, ["a much longer sentence " * 20] * 3, TEXTS[:2]):
        logits = default_pipe.run(texts)["logits"]
        assert logits.shape == (len(texts), 2)
    assert forward.experimental_get_tracing_count() == traced


def test_forward_matches_the_eager_model(default_pipe):
    inputs = default_pipe.preprocess(TEXTS)
    eager = default_pipe.model(**inputs, training=False).logits.numpy()
    np.testing.assert_allclose(default_pipe.forward(inputs)["logits"], eager, atol=1e-5)


def test_forward_accepts_numpy_and_int64(default_pipe):
    inputs = default_pipe.preprocess(SEED_SENTENCES)
    as_numpy = {name: tensor.numpy().astype(np.int64) for name, tensor in inputs.items()}
    np.testing.assert_allclose(default_pipe.forward(as_numpy)["logits"], default_pipe.forward(inputs)["logits"], atol=1e-6)


def test_postprocess_is_softmax_and_id2label(default_pipe):
    logits = tf.constant([[2.0, 0.0], [-1.0, 3.0]])
    results = default_pipe.postprocess({"logits": logits.numpy()}, top_k=None)
    expected = tf.nn.softmax(logits).numpy()
    assert [r[0]["label"] for r in results] == default_pipe.labels
    assert results[0][0]["score"] == pytest.approx(expected[0, 0], abs=1e-6)
    assert results[1][1]["score"] == pytest.approx(expected[1, 0], abs=1e-6)
    none = default_pipe.postprocess({"logits": logits.numpy()}, top_k=1, function_to_apply="none")
    assert none[1] == [{"label": default_pipe.labels[1], "score": 3.0}]


CALLS = [
    ("single", lambda texts: texts[0], {}),
    ("list", lambda texts: texts, {}),
    ("single top_k=None", lambda texts: texts[0], {"top_k": None}),
    ("list top_k=None", lambda texts: texts, {"top_k": None}),
    ("single top_k=1", lambda texts: texts[0], {"top_k": 1}),
    ("list top_k=2", lambda texts: texts, {"top_k": 2}),
    ("sigmoid", lambda texts: texts, {"function_to_apply": "sigmoid", "top_k": None}),
    ("none", lambda texts: texts[:3], {"function_to_apply": "none"}),
]


@pytest.mark.parametrize("name, pick, kwargs", CALLS, ids=[c[0] for c in CALLS])
def test_same_answers_as_hf_pipeline(default_pipe, name, pick, kwargs):
    hf = HFTextClassificationPipeline(model=default_pipe.model, tokenizer=default_pipe.tokenizer, framework="tf")
    assert_same_answers(default_pipe(pick(TEXTS), batch_size=3, **kwargs), hf(pick(TEXTS), **kwargs))


@pytest.mark.parametrize("outputs", [1, 2])
def test_regression_models_answer_raw_outputs_like_hf(tiny_checkpoint, outputs):
    """problem_type="regression": HF applies no function, whatever the number of outputs."""
    from tf_pipeline import load_pipeline

    folder, _, _ = tiny_checkpoint("bert", problem_type="regression", num_labels=outputs)
    pipe = load_pipeline(folder)
    hf = HFTextClassificationPipeline(model=pipe.model, tokenizer=pipe.tokenizer, framework="tf")
    for kwargs in ({}, {"top_k": None}):
        ours, theirs = pipe(TEXTS, **kwargs), hf(TEXTS, **kwargs)
        assert_same_answers(ours, theirs)
    logits = pipe.run(TEXTS)["logits"]
    best = [max(row) for row in logits.tolist()]
    assert [answer["score"] for answer in pipe(TEXTS)] == pytest.approx(best, abs=1e-6)


def test_batch_size_does_not_change_answers(default_pipe):
    one = default_pipe(TEXTS, top_k=None, batch_size=1)
    many = default_pipe(TEXTS, top_k=None, batch_size=64)
    assert_same_answers(one, many)


def test_stream_reads_lazily_and_keeps_order(default_pipe):
    def texts():
        for index in range(7):
            yield TEXTS[index % len(TEXTS)]

    streamed = list(default_pipe.stream(texts(), batch_size=2))
    assert len(streamed) == 7
    assert_same_answers([r[0] for r in streamed], default_pipe([TEXTS[i % len(TEXTS)] for i in range(7)]))


def test_sorting_by_length_keeps_input_order(default_pipe):
    texts = [TEXTS[i % len(TEXTS)] * (1 + i % 3) for i in range(11)]
    unsorted = list(default_pipe.stream(texts, batch_size=2, sort_window=1, top_k=None))
    by_length = list(default_pipe.stream(texts, batch_size=2, sort_window=4, top_k=None))
    assert_same_answers(by_length, unsorted)


def test_xla_with_length_buckets_answers_the_same(tiny_checkpoint):
    from tf_pipeline import load_checkpoint
    from tf_pipeline.runners.graph import TextClassificationPipeline

    checkpoint = load_checkpoint(tiny_checkpoint("bert")[0])
    plain = TextClassificationPipeline(checkpoint)
    xla = TextClassificationPipeline(checkpoint, jit_compile=True)
    assert xla.length_buckets == (16, 32, 48, 64)  # capped at the tiny model's 64 positions
    texts = [TEXTS[i % len(TEXTS)] * (1 + i % 4) for i in range(20)]
    assert_same_answers(xla(texts, top_k=None, batch_size=4), plain(texts, top_k=None, batch_size=4), atol=1e-4)
    assert {length for _, length in xla.shapes_seen} <= {16, 32, 48, 64}
    assert len(xla.shapes_seen) <= 4 * 2  # buckets × (full batch, last batch)


def test_the_chunker_bounds_attention_memory_and_trims_padding_eagerly_too():
    from tf_pipeline.runners.forward import sorted_chunks

    seen = []
    specs = {"logits": tf.TensorSpec([None, 1], tf.float32)}

    def run(chunk):  # any Python callable, as for the XLA and TFLite runners
        seen.append(tuple(chunk["attention_mask"].shape))
        return {"logits": tf.cast(tf.reduce_sum(chunk["attention_mask"], axis=1, keepdims=True), tf.float32)}

    mask = np.zeros([128, 256], np.int32)
    mask[:, :10] = 1
    mask[5, :200] = 1  # one long text: only its chunk keeps 200 columns
    logits = sorted_chunks(run, {"input_ids": tf.ones([128, 256], tf.int32), "attention_mask": tf.constant(mask)},
                           specs, budget=256 * 256 * 4, padding_slack=np.inf)["logits"]
    assert all(rows * width * width <= 256 * 256 * 4 for rows, width in seen)
    assert {width for _, width in seen} == {10, 200}  # each chunk cut to its widest row
    assert logits.numpy()[:, 0].tolist() == mask.sum(axis=1).tolist()  # back in input order
    seen.clear()
    left_padded = tf.constant([[0, 0, 1, 1], [0, 1, 1, 1]])
    sorted_chunks(run, {"attention_mask": left_padded}, specs, budget=16)
    assert seen == [(1, 4), (1, 4)]  # leading padding moves positions: kept
    seen.clear()
    sorted_chunks(run, {"attention_mask": tf.ones([8, 16], tf.int32)}, specs, padding_slack=np.inf)
    assert seen == [(8, 16)]  # under the budget: one call
    seen.clear()
    sorted_chunks(run, {"attention_mask": tf.ones([8, 16], tf.int32)}, specs, padding_slack=np.inf, max_rows=3)
    assert seen == [(3, 16), (3, 16), (2, 16)]  # at most max_rows per call


def test_sorted_chunks_in_graph_give_each_row_its_own_answer(default_pipe):
    from tf_pipeline.runners.forward import sorted_chunks

    texts = [" ".join(TEXTS[: 1 + (7 * i) % len(TEXTS)]) * (1 + i % 3) for i in range(24)]
    inputs = {name: default_pipe.preprocess(texts)[name] for name in default_pipe.input_names}
    mask = inputs["attention_mask"].numpy()
    mask[5] = 0  # a row without real tokens keeps its full width and still answers
    inputs["attention_mask"] = tf.constant(mask)
    width = int(mask.shape[1])
    chunk_shapes, calls = [], tf.Variable(0)

    def model_logits(chunk):
        chunk_shapes.append(chunk["input_ids"].shape)
        calls.assign_add(1)
        return {"logits": default_pipe.model(**chunk, training=False).logits}

    specs = {"logits": tf.TensorSpec([None, 2], tf.float32)}
    compiled = tf.function(lambda ids: sorted_chunks(model_logits, ids, specs, budget=4 * width * width))
    together = compiled(inputs)["logits"].numpy()
    assert [shape.as_list() for shape in chunk_shapes] == [[None, None]]  # traced once: dynamic chunks
    assert int(calls.numpy()) >= 3  # the budget split the batch
    alone = np.concatenate([default_pipe.forward({name: tensor[i:i + 1] for name, tensor in inputs.items()})["logits"]
                            for i in range(len(texts))])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_a_batch_over_the_attention_budget_gives_the_same_logits(default_pipe):
    from tf_pipeline.runners.forward import ATTENTION_BUDGET

    texts = [" ".join(TEXTS[: 1 + i % len(TEXTS)]) * 4 for i in range(60)]
    inputs = default_pipe.preprocess(texts)
    assert inputs["input_ids"].shape[0] * inputs["input_ids"].shape[1] ** 2 > ATTENTION_BUDGET
    together = default_pipe.forward(inputs)["logits"]
    one_by_one = np.concatenate([default_pipe.run([text])["logits"] for text in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-4)
