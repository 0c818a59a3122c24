"""SavedModel export for TF Serving: layout, signatures, in-graph tokenization, verification, Keras 3."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the ops the export uses, as TF Serving links them)

from tf_pipeline import InvalidInputError, load_pipeline
from tf_pipeline.export.saved_model.export import export_saved_model
from tf_pipeline.export.saved_model.serving_config import BATCHING
from tf_pipeline.export.saved_model.verify import verify_export

CLI = str(Path(sys.executable).parent / "tf-pipeline")
TEXTS = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!",
         "Not bad at all!", "東京 is lovely 😀", "Worst. Purchase. Ever."]


@pytest.fixture(scope="module")
def sentiment_export(default_pipe, tmp_path_factory):
    base = tmp_path_factory.mktemp("exports") / "sentiment"
    return export_saved_model(default_pipe, base)


def test_tf_serving_layout_and_versions(sentiment_export, tiny_checkpoint, tmp_path):
    assert sentiment_export.name == "1"
    files = {path.name for path in sentiment_export.iterdir()}
    assert {"saved_model.pb", "variables", "assets.extra"} <= files
    assert {p.name for p in (sentiment_export / "assets.extra").iterdir()} == {"tf_serving_warmup_requests", "tf_pipeline.json"}
    pipe = load_pipeline(tiny_checkpoint("bert")[0])
    base = tmp_path / "model"
    first = export_saved_model(pipe, base)
    second = export_saved_model(pipe, base)
    assert (first.name, second.name) == ("1", "2")
    with pytest.raises(ValueError, match="already exists"):
        export_saved_model(pipe, base, version=2)
    before = (second / "saved_model.pb").stat().st_mtime_ns
    assert export_saved_model(pipe, base, version=2, overwrite=True, max_length=32) == second
    assert (second / "saved_model.pb").stat().st_mtime_ns != before
    assert json.loads((second / "assets.extra" / "tf_pipeline.json").read_text())["max_length"] == 32
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]  # nothing half-written left behind
    assert oct((second).stat().st_mode & 0o777) != oct(0o700)
    (tmp_path / "a-file").write_text("not a folder")
    for blocked in (tmp_path / "a-file", tmp_path / "a-file" / "below"):
        with pytest.raises(ValueError, match="a-file is a file; the export needs a folder"):
            export_saved_model(pipe, blocked)


def test_metadata_and_warmup_requests(default_pipe, sentiment_export):
    from tensorflow_serving.apis import prediction_log_pb2

    metadata = json.loads((sentiment_export / "assets.extra" / "tf_pipeline.json").read_text())
    assert metadata["task"] == "text-classification"
    assert metadata["task_settings"]["labels"] == ["NEGATIVE", "POSITIVE"]
    assert metadata["max_length"] == default_pipe.max_length
    assert metadata["source"] == default_pipe.source
    assert metadata["signatures"] == ["classify", "predict_ids", "serving_default", "serving_pairs"]
    assert (metadata["schema_version"], metadata["format"], metadata["text_in"]) == (3, "saved_model", True)
    assert {"tensorflow", "tensorflow_text", "transformers", "tf_pipeline"} <= metadata["libraries"].keys()
    records = list(tf.data.TFRecordDataset(str(sentiment_export / "assets.extra" / "tf_serving_warmup_requests")))
    assert records
    log = prediction_log_pb2.PredictionLog.FromString(records[0].numpy())
    assert log.predict_log.request.model_spec.signature_name == "serving_default"
    assert tf.make_ndarray(log.predict_log.request.inputs["text"]).shape == (3,)


def test_signatures_match_the_eager_pipeline(default_pipe, sentiment_export):
    loaded = tf.saved_model.load(str(sentiment_export))
    expected = default_pipe(TEXTS, top_k=None)
    out = loaded.signatures["serving_default"](text=tf.constant(TEXTS))
    assert [x.decode() for x in out["label"].numpy()] == [r[0]["label"] for r in expected]
    np.testing.assert_allclose(out["score"].numpy(), [r[0]["score"] for r in expected], atol=1e-5)
    inputs = default_pipe.preprocess(TEXTS)
    by_ids = loaded.signatures["predict_ids"](**inputs)
    np.testing.assert_allclose(by_ids["probabilities"].numpy(), out["probabilities"].numpy(), atol=1e-5)
    examples = [tf.train.Example(features=tf.train.Features(feature={"text": tf.train.Feature(
        bytes_list=tf.train.BytesList(value=[text.encode()]))})).SerializeToString() for text in TEXTS]
    classified = loaded.signatures["classify"](inputs=tf.constant(examples))
    assert classified["classes"].numpy().tolist() == [[b"NEGATIVE", b"POSITIVE"]] * len(TEXTS)
    np.testing.assert_allclose(classified["scores"].numpy(), out["probabilities"].numpy(), atol=1e-5)


def test_bad_inputs_through_the_signatures(sentiment_export):
    serve = tf.saved_model.load(str(sentiment_export)).signatures["serving_default"]
    texts = tf.constant([b"", b"   \t\n", b"word " * 20_000, b"\xff\xfe invalid \xc3\x28 utf-8", "fine".encode()])
    out = serve(text=texts)
    assert out["probabilities"].shape == (5, 2)
    assert np.all(np.isfinite(out["probabilities"].numpy()))
    assert out["valid"].numpy().tolist() == [False, False, True, True, True]
    assert out["label"].numpy().tolist()[:2] == [b"", b""]  # blank rows: no answer (docs/serving.md)
    assert set(out["label"].numpy()[2:]) <= {b"NEGATIVE", b"POSITIVE"}
    empty = serve(text=tf.constant([], tf.string))
    assert empty["label"].shape == (0,) and empty["probabilities"].shape == (0, 2)
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        serve(text=tf.constant([[1, 2]]))


@pytest.mark.slow
def test_cli_export_and_verify_as_tf_serving_loads_it(sentiment_export):
    done = subprocess.run([CLI, "verify", str(sentiment_export), "--tf-serving", "2.17"], capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    for check in ("fresh process without transformers", "op audit", "serving_default: label equal",
                  "predict_ids: probabilities within", "classify: method tensorflow/serving/classify",
                  "saved_model_cli show --all", "TF Serving 2.12 – 2.19 (tensorflow-text 2.12.1)  loads"):
        assert f"PASS  {check}" in done.stdout
    assert "INFO  TF Serving ≥ 2.20 (tensorflow-text 2.20): loads" in done.stdout
    assert "FAIL" not in done.stdout


@pytest.mark.slow
def test_verify_catches_a_different_model(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("bert")
    other, _, _ = tiny_checkpoint("bert", seed=1)
    export = export_saved_model(load_pipeline(folder), tmp_path / "tiny")  # passing verify: the CLI export test
    report = verify_export(export, model=str(other))
    assert not report.ok
    assert any(not passed and "probabilities" in name for name, passed, _ in report.checks)
    two_labels, _, _ = tiny_checkpoint("bert", num_labels=2)
    mismatch = verify_export(export, model=str(two_labels))  # a FAIL line, not an IndexError
    failed = [name for name, passed, _ in mismatch.checks if not passed]
    assert "task settings equal the reference's" in failed and any("probabilities" in name for name in failed)


def test_blank_rows_answer_nothing_and_say_so_where_the_pipeline_refuses(default_pipe, sentiment_export):
    loaded = tf.saved_model.load(str(sentiment_export))
    texts = ["A wonderful, warm film.", "", " \t\u3000\u00a0 ", "Dull and far too long."]
    out = loaded.signatures["serving_default"](text=tf.constant(texts))
    assert out["valid"].numpy().tolist() == [True, False, False, True]
    expected = default_pipe([texts[0], texts[3]])
    assert [label.decode() for label in out["label"].numpy()] == [expected[0]["label"], "", "", expected[1]["label"]]
    np.testing.assert_allclose(out["score"].numpy(), [expected[0]["score"], 0, 0, expected[1]["score"]], atol=1e-5)
    assert not out["probabilities"].numpy()[1:3].any() and not out["logits"].numpy()[1:3].any()
    example = tf.train.Example(features=tf.train.Features(feature={
        "text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"  "]))})).SerializeToString()
    assert not loaded.signatures["classify"](inputs=tf.constant([example]))["scores"].numpy().any()
    for blank in texts[1:3]:
        with pytest.raises(InvalidInputError, match="empty or only whitespace"):
            default_pipe([texts[0], blank])


def test_verify_says_which_tf_serving_releases_load_an_export():
    from tf_pipeline.export.saved_model.verify import VerifyReport, _audit, tf_serving_range

    wordpiece_ops = {"core": ["MatMul"], "other": ["FastBertNormalize", "FastWordpieceTokenizeWithOffsets"]}
    report = VerifyReport("x")
    _audit(report, wordpiece_ops, tf_serving_range("2.15"))
    assert report.ok and any(name.startswith("TF Serving 2.12 – 2.19") for name, _, _ in report.checks)
    needs_2_20 = {"core": [], "other": ["TFText>RoundRobinTrim"]}  # an op tensorflow-text added in 2.20
    report = VerifyReport("x")
    _audit(report, needs_2_20, tf_serving_range("2.19.1"))
    assert not report.ok and "lacks TFText>RoundRobinTrim" in str(report)
    report = VerifyReport("x")
    _audit(report, needs_2_20, tf_serving_range("2.20"))
    assert report.ok
    report = VerifyReport("x")
    _audit(report, {"core": [], "other": ["MadeUpOp"]}, None)
    assert not report.ok and "unknown: ['MadeUpOp']" in str(report)
    for bad in ("2.10", "two", "2"):
        with pytest.raises(InvalidInputError):
            tf_serving_range(bad)


def test_keras3_tfsmlayer(default_pipe, sentiment_export):
    import keras

    layer = keras.layers.TFSMLayer(str(sentiment_export), call_endpoint="serving_default")
    out = layer(tf.constant(TEXTS))
    expected = default_pipe(TEXTS)
    assert [x.decode() for x in np.asarray(out["label"])] == [r["label"] for r in expected]
    np.testing.assert_allclose(np.asarray(out["score"]), [r["score"] for r in expected], atol=1e-5)


@pytest.mark.slow
def test_tiny_wordpiece_models_export_strings_in(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("distilbert")
    pipe = load_pipeline(folder)
    export = export_saved_model(pipe, tmp_path / "distilbert")
    loaded = tf.saved_model.load(str(export))
    assert set(loaded.signatures["predict_ids"].structured_input_signature[1]) == {"input_ids", "attention_mask"}
    out = loaded.signatures["serving_default"](text=tf.constant(TEXTS))
    assert [x.decode() for x in out["label"].numpy()] == [r["label"] for r in pipe(TEXTS)]


@pytest.mark.slow
def test_byte_level_bpe_exports_strings_in(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("roberta")
    pipe = load_pipeline(folder)
    export = export_saved_model(pipe, tmp_path / "roberta")
    metadata = json.loads((export / "assets.extra" / "tf_pipeline.json").read_text())
    assert metadata["text_in"] is True
    assert set(metadata["signatures"]) == {"classify", "predict_ids", "serving_default", "serving_pairs"}
    texts = TEXTS + ["hi <mask> there", "x  \n y", "naïve café 😀\x00"]
    out = tf.saved_model.load(str(export)).signatures["serving_default"](text=tf.constant(texts))
    expected = pipe(texts)
    assert [x.decode() for x in out["label"].numpy()] == [r["label"] for r in expected]
    np.testing.assert_allclose(out["score"].numpy(), [r["score"] for r in expected], atol=1e-5)
    assert verify_export(export).ok


def test_serving_config_files(sentiment_export, tmp_path):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    base = sentiment_export.parent
    done = subprocess.run([CLI, "serving-config", str(base), "--versions", "all", "--base-path-prefix", "/models",
                           "--output", str(tmp_path / "models.config"), "--batching", str(tmp_path / "batching.config")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    config = text_format.Parse((tmp_path / "models.config").read_text(), model_server_config_pb2.ModelServerConfig())
    entry = config.model_config_list.config[0]
    assert (entry.name, entry.base_path, entry.model_platform) == ("sentiment", "/models/sentiment", "tensorflow")
    assert entry.model_version_policy.HasField("all")
    batching = (tmp_path / "batching.config").read_text()
    for name, value in BATCHING.items():  # text-proto wrapper values, e.g. max_batch_size { value: 32 }
        assert f"{name} {{ value: {str(value).lower()} }}" in batching, name
    missing = subprocess.run([CLI, "serving-config", str(tmp_path), "--output", str(tmp_path / "x")],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "no numbered version" in missing.stderr
