"""SavedModel export for TF Serving: layout, signatures, in-graph tokenization, verification, Keras 3."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the ops the export uses, as TF Serving links them)

from tf_pipeline import load_pipeline
from tf_pipeline.serving import export_saved_model
from tf_pipeline.serving_config import BATCHING
from tf_pipeline.text_graph import BytePairGraphTokenizer, InGraphTokenizer
from tf_pipeline.verify import verify_export
from tokenizer_corpus import corpus

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
    assert metadata["labels"] == ["NEGATIVE", "POSITIVE"]
    assert metadata["max_length"] == default_pipe.max_length
    assert metadata["source"] == default_pipe.source
    assert metadata["signatures"] == ["classify", "predict_ids", "serving_default"]
    assert {"tensorflow", "tensorflow_text", "transformers", "tf_pipeline"} <= metadata["versions"].keys()
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
    assert set(out["label"].numpy()) <= {b"NEGATIVE", b"POSITIVE"}
    empty = serve(text=tf.constant([], tf.string))
    assert empty["label"].shape == (0,) and empty["probabilities"].shape == (0, 2)
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        serve(text=tf.constant([[1, 2]]))


@pytest.mark.slow
def test_cli_export_and_verify_as_tf_serving_loads_it(sentiment_export):
    done = subprocess.run([CLI, "verify", str(sentiment_export)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    for check in ("fresh process without transformers", "op audit", "serving_default: labels equal",
                  "predict_ids: probabilities within", "classify: method tensorflow/serving/classify",
                  "saved_model_cli show --all"):
        assert f"PASS  {check}" in done.stdout
    assert "FAIL" not in done.stdout


@pytest.mark.slow
def test_verify_catches_a_different_model(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("bert")
    other, _, _ = tiny_checkpoint("bert", seed=1)
    export = export_saved_model(load_pipeline(folder), tmp_path / "tiny")
    assert verify_export(export).ok
    report = verify_export(export, model=str(other))
    assert not report.ok
    assert any(not passed and "probabilities" in name for name, passed, _ in report.checks)


def test_keras3_tfsmlayer(default_pipe, sentiment_export):
    import keras

    layer = keras.layers.TFSMLayer(str(sentiment_export), call_endpoint="serving_default")
    out = layer(tf.constant(TEXTS))
    expected = default_pipe(TEXTS)
    assert [x.decode() for x in np.asarray(out["label"])] == [r["label"] for r in expected]
    np.testing.assert_allclose(np.asarray(out["score"]), [r["score"] for r in expected], atol=1e-5)


def _agreement(hf_tokenizer, lines, max_length=512):
    graph_tokenizer = InGraphTokenizer.from_hf(hf_tokenizer, max_length)
    mismatches = []
    for start in range(0, len(lines), 128):
        chunk = lines[start:start + 128]
        ours = graph_tokenizer(tf.constant(chunk))
        theirs = hf_tokenizer(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="np")
        for row, text in enumerate(chunk):
            length = int(theirs["attention_mask"][row].sum())
            if ours["input_ids"][row].numpy()[:length].tolist() != theirs["input_ids"][row][:length].tolist() \
                    or int(ours["attention_mask"][row].numpy().sum()) != length:
                mismatches.append(text)
    return 1 - len(mismatches) / len(lines), mismatches


@pytest.mark.parametrize("variant", ["uncased", pytest.param("cased", marks=pytest.mark.slow),
                                     pytest.param("lowercase-keep-accents", marks=pytest.mark.slow)])
def test_in_graph_tokenizer_matches_hf_on_a_varied_corpus(default_pipe, variant):
    from transformers import BertTokenizerFast

    vocab = Path(default_pipe.source) / "vocab.txt"
    tokenizer = {
        "uncased": default_pipe.tokenizer,
        "cased": BertTokenizerFast(vocab_file=str(vocab), do_lower_case=False),
        "lowercase-keep-accents": BertTokenizerFast(vocab_file=str(vocab), strip_accents=False),
    }[variant]
    lines = corpus(2000)
    rate, mismatches = _agreement(tokenizer, lines, max_length=128 if variant != "uncased" else 512)
    logging.getLogger(__name__).info("in-graph tokenizer agreement (%s): %.4f on %d lines", variant, rate, len(lines))
    assert len(lines) >= 2000
    assert mismatches == [], f"agreement {rate:.4f}; first mismatches: {mismatches[:3]}"


def test_tiny_wordpiece_models_export_strings_in(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("distilbert")
    pipe = load_pipeline(folder)
    export = export_saved_model(pipe, tmp_path / "distilbert")
    loaded = tf.saved_model.load(str(export))
    assert set(loaded.signatures["predict_ids"].structured_input_signature[1]) == {"input_ids", "attention_mask"}
    out = loaded.signatures["serving_default"](text=tf.constant(TEXTS))
    assert [x.decode() for x in out["label"].numpy()] == [r["label"] for r in pipe(TEXTS)]


def test_byte_level_bpe_in_graph_tokenizer_matches_hf(tiny_checkpoint, tmp_path):
    from tokenizers.implementations import ByteLevelBPETokenizer
    from transformers import RobertaTokenizerFast

    from tf_pipeline.data import sentiment_set

    _, _, tiny = tiny_checkpoint("roberta")
    assert isinstance(InGraphTokenizer.from_hf(tiny, 64), BytePairGraphTokenizer)
    lines = corpus(2000)
    tokenizers = {"tiny": tiny}
    folder = tmp_path
    trainer = ByteLevelBPETokenizer()  # a vocabulary large enough for long merge chains
    trainer.train_from_iterator([row.text for row in sentiment_set("train")], vocab_size=3000,
                                special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    trainer.save_model(str(folder))
    for prefix in (False, True):
        tokenizers[f"3000, add_prefix_space={prefix}"] = RobertaTokenizerFast(
            vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"),
            add_prefix_space=prefix, model_max_length=512)
    for name, tokenizer in tokenizers.items():
        rate, mismatches = _agreement(tokenizer, lines, max_length=tokenizer.model_max_length)
        logging.getLogger(__name__).info("byte-level BPE in-graph agreement (%s): %.4f", name, rate)
        assert mismatches == [], f"{name}: agreement {rate:.4f}; first mismatches: {mismatches[:3]}"


@pytest.mark.slow
def test_byte_level_bpe_exports_strings_in(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("roberta")
    pipe = load_pipeline(folder)
    export = export_saved_model(pipe, tmp_path / "roberta")
    metadata = json.loads((export / "assets.extra" / "tf_pipeline.json").read_text())
    assert metadata["in_graph_tokenizer"] is True
    assert set(metadata["signatures"]) == {"classify", "predict_ids", "serving_default"}
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


def _sentencepiece_limitation(text: str) -> bool:
    """The documented SentencePiece limitations (README): typed special tokens, leading/trailing or
    whitespace-only text, and control/format characters."""
    import re
    import unicodedata

    return bool(
        re.search(r"\[(CLS|SEP|MASK|UNK|PAD)\]", text)
        or text != text.strip() or not text.strip()
        or any(unicodedata.category(char) in {"Cc", "Cf"} and char not in "\t\n\r" for char in text)
    )


def test_sentencepiece_in_graph_tokenizer(tiny_checkpoint, tmp_path):
    from tf_pipeline.text_graph import SentencePieceGraphTokenizer

    folder, _, tokenizer = tiny_checkpoint("albert")
    assert isinstance(InGraphTokenizer.from_hf(tokenizer, 64), SentencePieceGraphTokenizer)
    lines = corpus(2000)
    rate, mismatches = _agreement(tokenizer, lines, max_length=64)
    logging.getLogger(__name__).info("SentencePiece in-graph agreement: %.4f on %d lines", rate, len(lines))
    natural = lines[:752]  # the sentiment set: ordinary sentences
    assert not set(mismatches) & set(natural)
    assert [text for text in mismatches if not _sentencepiece_limitation(text)] == []
    assert rate > 0.85
    pipe = load_pipeline(folder)
    export = export_saved_model(pipe, tmp_path / "albert")
    out = tf.saved_model.load(str(export)).signatures["serving_default"](text=tf.constant(natural[:40]))
    assert [x.decode() for x in out["label"].numpy()] == [r["label"] for r in pipe(natural[:40])]
