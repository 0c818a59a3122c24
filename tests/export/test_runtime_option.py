"""``load_pipeline(..., runtime=...)`` and ``predict --runtime``: the TFLite runtimes one argument away,
converted once and cached, answering like the TF pipeline."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import warnings

import pytest

from tf_pipeline import InvalidInputError, UntrainedHeadWarning, load_pipeline
from tf_pipeline.export.tflite.runtime import TFLitePipeline
from conftest import assert_same_answers

TEXTS = ["the film was wonderful", "hardly worth it!!", "service was slow " * 30]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_PIPELINE_HOME", str(tmp_path))
    return tmp_path


def _cached_files(home) -> list[str]:
    folder = home / "cache" / "tflite"
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("runtime, atol", [("tflite", 1e-4), pytest.param("tflite-int8", 0.1, marks=pytest.mark.slow)])
def test_a_tflite_runtime_answers_like_the_tf_pipeline_and_is_cached(home, tiny_checkpoint, caplog, runtime, atol):
    folder, _, _ = tiny_checkpoint("bert")
    expected = load_pipeline(folder)(TEXTS, top_k=None)
    with caplog.at_level(logging.INFO, logger="tf_pipeline"):
        lite = load_pipeline(folder, runtime=runtime)
        again = load_pipeline(folder, runtime=runtime)
    assert isinstance(lite, TFLitePipeline) and isinstance(again, TFLitePipeline)
    assert caplog.text.count("Converting") == 1  # the second load used the cached file
    (name,) = _cached_files(home)
    assert name.endswith(("-none.tflite" if runtime == "tflite" else "-dynamic-int8.tflite"))
    ours = again(TEXTS, top_k=None)
    if runtime == "tflite":
        assert_same_answers(ours, expected, atol=atol)
    for mine, theirs in zip(ours, expected):
        assert {item["label"]: item["score"] for item in mine} == pytest.approx(
            {item["label"]: item["score"] for item in theirs}, abs=atol)


@pytest.mark.slow
def test_length_and_labels_are_part_of_the_cache_name(home, tiny_checkpoint):
    folder, _, _ = tiny_checkpoint("bert")
    short = load_pipeline(folder, runtime="tflite", max_length=16)
    relabelled = load_pipeline(folder, runtime="tflite", id2label=["bad", "meh", "good"])
    assert short.max_length == 16 and relabelled.labels == ["bad", "meh", "good"]
    assert len(_cached_files(home)) == 2


def test_a_random_head_is_converted_but_not_cached(home, tiny_checkpoint):
    folder, _, _ = tiny_checkpoint("bert", base=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        lite = load_pipeline(folder, runtime="tflite")
    assert len(lite(TEXTS)) == 3
    assert _cached_files(home) == []


def test_runtime_errors(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("bert")
    with pytest.raises(InvalidInputError, match="runtime must be one of tf, tflite, tflite-int8"):
        load_pipeline(folder, runtime="onnx")
    with pytest.raises(InvalidInputError, match="jit_compile"):
        load_pipeline(folder, runtime="tflite", jit_compile=True)
    from tf_pipeline.export.saved_model.export import export_saved_model

    export = export_saved_model(load_pipeline(folder), tmp_path / "export").parent
    with pytest.raises(InvalidInputError, match="is an export; runtime"):
        load_pipeline(export, runtime="tflite-int8")


@pytest.mark.slow
def test_predict_runtime_flag(home, tiny_checkpoint):
    folder, _, _ = tiny_checkpoint("bert")
    done = subprocess.run(
        [sys.executable, "-m", "tf_pipeline.cli", "predict", "--model", str(folder), "--runtime", "tflite", *TEXTS],
        capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert_same_answers(answers, load_pipeline(folder)(TEXTS), atol=1e-4)
    assert "Converting" in done.stderr
    refused = subprocess.run([sys.executable, "-m", "tf_pipeline.cli", "predict", "--runtime", "onnx", "x"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "invalid choice: 'onnx'" in refused.stderr
