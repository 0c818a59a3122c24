"""Text pairs in HF's call forms, against HF's own TF ``TextClassificationPipeline`` on the same weights."""

from contextlib import nullcontext

import pytest
from transformers import TextClassificationPipeline as HFTextClassificationPipeline

from conftest import assert_same_answers
from tf_pipeline import InvalidInputError, load_pipeline
from tf_pipeline.tasks.inputs import TextPair

PAIRS = [
    {"text": "The parcel arrived two days late.", "text_pair": "Delivery was slow."},
    {"text": "Where is the station?", "text_pair": "The station is north of the river, past the bridge."},
    {"text": "Une phrase en français.", "text_pair": "東京の天気は晴れです"},
]
FORMS = [  # (name, inputs, keyword arguments): every pair form HF's pipeline and its tests accept
    ("one pair", PAIRS[0], {}),
    ("one pair, top_k=None", PAIRS[1], {"top_k": None}),
    ("one pair, top_k=1", PAIRS[1], {"top_k": 1}),
    ("list of pairs", PAIRS, {}),
    ("list of pairs, top_k=2", PAIRS, {"top_k": 2}),
    ("list of pairs, sigmoid", PAIRS, {"function_to_apply": "sigmoid"}),
    ("text alone in a dict", {"text": "Only one text here."}, {}),
    ("legacy [[[a, b]]]", [[[PAIRS[0]["text"], PAIRS[0]["text_pair"]]]], {}),
    ("texts and pairs mixed", ["A plain text.", PAIRS[1], {"text": "Alone."}], {}),
    ("legacy return_all_scores", PAIRS[:2], {"return_all_scores": True}),
]


SENSITIVE = {"num_labels": 3, "initializer_range": 0.5}  # large random weights: scores that move with every token


@pytest.fixture(scope="module", params=["bert", "roberta", "distilbert"])
def pipes(request, tiny_checkpoint):
    """Ours and HF's on the same weights: BERT (token_type_ids), RoBERTa (``</s></s>``), DistilBERT (no types)."""
    pipe = load_pipeline(tiny_checkpoint(request.param, **SENSITIVE)[0])
    return pipe, HFTextClassificationPipeline(model=pipe.model, tokenizer=pipe.tokenizer, framework="tf")


@pytest.mark.parametrize("name, inputs, kwargs", FORMS, ids=[form[0] for form in FORMS])
def test_pair_forms_answer_like_hf(pipes, name, inputs, kwargs):
    ours, theirs = pipes
    with pytest.warns(UserWarning) if "return_all_scores" in kwargs else nullcontext():
        answer = ours(inputs, batch_size=2, **kwargs)
    assert_same_answers(answer, theirs(inputs, **kwargs), atol=1e-5)


def test_pairs_are_tokenized_as_the_tokenizer_does_with_longest_first_truncation(pipes):
    ours, _ = pipes
    alone = ours(PAIRS[0]["text"], top_k=None)
    paired = ours(PAIRS[0], top_k=None)
    assert max(abs(a["score"] - b["score"]) for a, b in zip(alone, paired)) > 1e-4  # the second text is read
    long, short = " ".join(["many words in the first text"] * 20), "a short second text"
    for first, second in ((long, short), (short, long), (long, long)):
        ids = ours.preprocess([TextPair(first, second)], max_length=24)
        theirs = ours.tokenizer(first, second, truncation=True, max_length=24)
        for name, values in ids.items():
            assert values.numpy().tolist() == [theirs[name]], name
    batch = ours.preprocess(["one text", TextPair(short, "b"), "another"])  # one batch, each row as if alone
    for row, item in enumerate([("one text",), (short, "b"), ("another",)]):
        alone = ours.tokenizer(*item)["input_ids"]
        assert batch["input_ids"].numpy()[row, :len(alone)].tolist() == alone


def test_a_generator_of_pairs_streams_one_answer_per_pair(pipes):
    ours, _ = pipes
    answers = ours(pair for pair in PAIRS * 3)
    assert not isinstance(answers, list)
    assert list(answers) == ours(PAIRS * 3)


def test_bad_pairs_get_clear_errors(pipes):
    ours, theirs = pipes
    with pytest.raises(ValueError):  # HF refuses a bare [a, b] (transformers issue 17305); so do we, saying how
        theirs([["a", "b"]])
    with pytest.raises(InvalidInputError, match='"text_pair"'):
        ours([["a", "b"]])
    with pytest.raises(InvalidInputError, match=r"input 1 \(text_pair\) is empty"):
        ours([PAIRS[0], {"text": "a", "text_pair": "  "}])
    with pytest.raises(InvalidInputError, match="must have the key 'text'"):
        ours({"txt": "a", "text_pair": "b"})
    with pytest.raises(InvalidInputError, match=r"input 0 \(text\) is not a string"):
        ours({"text": 3, "text_pair": "b"})


def test_tasks_that_read_one_text_refuse_pairs(tiny_checkpoint):
    from tf_pipeline import pipeline

    folder = tiny_checkpoint("bert", base=True)[0]
    with pytest.raises(InvalidInputError, match="reads one text per input"):
        pipeline("feature-extraction", model=folder)([{"text": "a", "text_pair": "b"}])


SERVED = """import json, sys
import tensorflow as tf, tensorflow_text  # what TF Serving has: no transformers, no tf_pipeline
pairs = json.loads(sys.argv[2])
loaded = tf.saved_model.load(sys.argv[1])
served = loaded.signatures["serving_pairs"](text=tf.constant([p["text"] for p in pairs]),
                                             text_pair=tf.constant([p["text_pair"] for p in pairs]))
def example(p):
    feature = {k: tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode()])) for k, v in p.items()}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
classified = loaded.signatures["classify"](inputs=tf.constant([example(p) for p in pairs]))
print(json.dumps({"probabilities": served["probabilities"].numpy().tolist(), "valid": served["valid"].numpy().tolist(),
                  "classify": classified["scores"].numpy().tolist()}))
"""


@pytest.mark.parametrize("architecture", ["bert", pytest.param("roberta", marks=pytest.mark.slow)])
def test_the_saved_model_serves_pairs_without_python_around_it(tiny_checkpoint, tmp_path, architecture):
    """``serving_pairs`` (text, text_pair) and ``classify`` with a ``text_pair`` feature, in a fresh process
    with TensorFlow alone; rows without a pair, and blank pairs, answer as the pipeline does."""
    import json
    import subprocess
    import sys

    import numpy as np

    from tf_pipeline import export_saved_model
    from tf_pipeline.export.saved_model.runtime import SavedModelPipeline

    pipe = load_pipeline(tiny_checkpoint(architecture, **SENSITIVE)[0])
    version = export_saved_model(pipe, tmp_path / "export")
    sent = PAIRS + [{"text": "a text with a blank pair", "text_pair": " "}]
    done = subprocess.run([sys.executable, "-c", SERVED, str(version), json.dumps(sent)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    served = json.loads(done.stdout.strip().splitlines()[-1])
    expected = [[row["score"] for row in pipe.postprocess(pipe.run([TextPair(**pair)]), sort=False)[0]]
                for pair in PAIRS]  # every label's score, in label order
    np.testing.assert_allclose(served["probabilities"][:3], expected, atol=1e-5)
    assert served["valid"] == [True, True, True, False]
    single = [row["score"] for row in pipe.postprocess(pipe.run([sent[3]["text"]]), sort=False)[0]]
    np.testing.assert_allclose(served["classify"], expected + [single], atol=1e-5)  # a blank pair: the text alone
    from tf_pipeline.export.saved_model.verify import verify_export

    report = verify_export(version)  # every signature as TF Serving loads it, pairs against the eager pipeline
    assert report.ok, str(report)
    assert "serving_pairs: probabilities within" in str(report)
    exported = SavedModelPipeline(version)
    assert "text_pair" in exported.preprocess(PAIRS)  # Python clients use the signature too
    assert_same_answers(exported(PAIRS, top_k=None), pipe(PAIRS, top_k=None), atol=1e-5)


@pytest.mark.slow
def test_pairs_through_the_saved_model_and_tflite(tiny_checkpoint, tmp_path):
    """Mixed batches and shorter limits go as ids (the carried tokenizer); a strings-in .tflite tokenizes
    pairs inside the file (its serving_pairs signature), batches of pairs or of texts."""
    from tf_pipeline import convert_to_tflite, export_saved_model
    from tf_pipeline.export.saved_model.runtime import SavedModelPipeline
    from tf_pipeline.export.tflite.runtime import TFLitePipeline

    pipe = load_pipeline(tiny_checkpoint("bert", **SENSITIVE)[0])
    expected = pipe(PAIRS, top_k=None)
    exported = SavedModelPipeline(export_saved_model(pipe, tmp_path / "export"))
    assert_same_answers(exported(PAIRS, top_k=None), expected, atol=1e-4)
    lite = TFLitePipeline(convert_to_tflite(pipe, tmp_path / "ids.tflite"))
    assert_same_answers(lite(PAIRS, top_k=None), expected, atol=1e-4)
    long_pairs = PAIRS + [{"text": "a long first text " * 30, "text_pair": "and a long second one " * 25}]
    strings = TFLitePipeline(convert_to_tflite(pipe, tmp_path / "strings.tflite", flavour="strings"))
    assert_same_answers(strings(long_pairs, top_k=None), pipe(long_pairs, top_k=None), atol=1e-4)
    assert_same_answers(strings(PAIRS[0]), pipe(PAIRS[0]), atol=1e-4)
    with pytest.raises(InvalidInputError, match="not both at once"):
        strings(["A plain text.", PAIRS[1]])
    small = TFLitePipeline(convert_to_tflite(pipe, tmp_path / "int8.tflite", flavour="strings", quantize="dynamic-int8"))
    assert [a["label"] for a in small(long_pairs)] == [a["label"] for a in pipe(long_pairs)]



def test_cli_predicts_pairs_from_arguments_jsonl_and_csv(tiny_checkpoint, tmp_path):
    import json

    from test_cli import run

    folder = tiny_checkpoint("bert", **SENSITIVE)[0]
    expected = load_pipeline(folder)(PAIRS[:2])
    given = run("predict", "--model", folder, PAIRS[0]["text"], PAIRS[1]["text"],
                "--text-pair", PAIRS[0]["text_pair"], PAIRS[1]["text_pair"])
    assert given.returncode == 0, given.stderr
    assert_same_answers([json.loads(line) for line in given.stdout.splitlines()], expected)
    jsonl, table = tmp_path / "pairs.jsonl", tmp_path / "pairs.csv"
    jsonl.write_text("".join(json.dumps({"id": i, **pair}) + "\n" for i, pair in enumerate(PAIRS[:2])))
    table.write_text("query,passage\n" + "".join(f'"{p["text"]}","{p["text_pair"]}"\n' for p in PAIRS[:2]))
    read = run("predict", "--model", folder, "--input", jsonl, table, "--text-column", "query",
               "--text-pair-column", "passage")
    assert read.returncode == 0, read.stderr
    assert_same_answers([json.loads(line) for line in read.stdout.splitlines()], expected * 2)
    mismatch = run("predict", "--model", folder, "one", "two", "--text-pair", "only one")
    assert mismatch.returncode != 0 and "--text-pair gives the second text" in mismatch.stderr
