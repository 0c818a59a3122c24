"""Every task on every runtime, on tiny checkpoints: the eager graph is the reference for a
SavedModel reloaded in a fresh process, TFLite (float32 and dynamic int8, ids and strings in) and Beam."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tf_pipeline import convert_to_tflite, export_saved_model, pipeline
from tf_pipeline.export.tflite.runtime import TFLitePipeline
from tiny_models import make_checkpoint

TEXTS = ["the film was wonderful", "hardly worth it!! 😀", "service at the restaurant was slow " * 12, "ok"]
ST_MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]
TASKS = ("text-classification", "feature-extraction", "sentence-embeddings")
# the fast subset runs the embeddings task on each runtime; the others run with the slow tests
RUNTIME_TASKS = [pytest.param(task, marks=pytest.mark.slow) if task != "sentence-embeddings" else task for task in TASKS]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, tiny_checkpoint):
    """A classifier, and a bare encoder laid out as sentence-transformers does (CLS and mean pooling, normalised)."""
    encoder = tmp_path_factory.mktemp("st-encoder")
    make_checkpoint(encoder, "bert", base=True)
    (encoder / "modules.json").write_text(json.dumps(ST_MODULES))
    (encoder / "1_Pooling").mkdir()
    (encoder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 32, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": True}))
    (encoder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 24, "do_lower_case": False}))
    return {"text-classification": tiny_checkpoint("bert")[0], "feature-extraction": encoder,
            "sentence-embeddings": encoder}


@pytest.fixture(scope="module")
def eager(checkpoints):
    return {task: pipeline(task, checkpoints[task]) for task in TASKS}


def _assert_outputs_close(ours: dict, theirs: dict, atol: float) -> None:
    assert set(ours) == set(theirs)
    for name in theirs:
        assert np.shape(ours[name]) == np.shape(theirs[name]), name
        np.testing.assert_allclose(np.asarray(ours[name], np.float64), np.asarray(theirs[name], np.float64),
                                   atol=atol, err_msg=name)


def test_the_sentence_transformers_settings_are_read(eager):
    task = eager["sentence-embeddings"].task
    assert (task.pooling, task.normalize, task.max_seq_length) == (("cls", "mean"), True, 24)
    vectors = eager["sentence-embeddings"](TEXTS)
    assert vectors.shape == (len(TEXTS), 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert eager["sentence-embeddings"].max_length == 24


@pytest.mark.parametrize("task", RUNTIME_TASKS)
def test_a_saved_model_in_a_fresh_process_answers_like_the_graph(eager, task, tmp_path):
    version = export_saved_model(eager[task], tmp_path / "export")
    code = ("import json, sys\n"
            "from tf_pipeline import pipeline\n"
            "pipe = pipeline(model=sys.argv[1])\n"
            "outputs = pipe.run(json.loads(sys.argv[2]))\n"
            "print(json.dumps({'task': pipe.task.name, **{k: v.tolist() for k, v in outputs.items()}}))\n")
    done = subprocess.run([sys.executable, "-c", code, str(version), json.dumps(TEXTS)], capture_output=True,
                          text=True, check=True, timeout=600)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded.pop("task") == task
    _assert_outputs_close(loaded, eager[task].run(TEXTS), atol=1e-5)


@pytest.mark.parametrize("task", RUNTIME_TASKS)
def test_tflite_answers_like_the_graph(eager, task, tmp_path):
    reference = eager[task].run(TEXTS)
    lite = TFLitePipeline(convert_to_tflite(eager[task], tmp_path / "f32.tflite"))
    assert lite.task == eager[task].task
    _assert_outputs_close(lite.run(TEXTS), reference, atol=1e-4)
    strings = TFLitePipeline(convert_to_tflite(eager[task], tmp_path / "strings.tflite", flavour="strings"))
    _assert_outputs_close(strings.run(TEXTS), reference, atol=1e-4)
    if task == "sentence-embeddings":
        int8 = TFLitePipeline(convert_to_tflite(eager[task], tmp_path / "int8.tflite", quantize="dynamic-int8"))
        ours, theirs = int8(TEXTS), eager[task](TEXTS)
        cosine = np.sum(ours * theirs, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
        assert cosine.min() > 0.95  # int8 weights stray a little from float32 (docs/tflite.md has real-model numbers)


@pytest.mark.slow
def test_answers_in_hf_shapes_on_every_runtime(eager, tmp_path):
    pipe = eager["sentence-embeddings"]
    version = export_saved_model(pipe, tmp_path / "export")
    lite = TFLitePipeline(convert_to_tflite(pipe, tmp_path / "m.tflite"))
    for other in (pipeline(model=version), lite):
        np.testing.assert_allclose(other(TEXTS), pipe(TEXTS), atol=1e-4)
        assert other(TEXTS[0]).shape == (64,)
    features = eager["feature-extraction"]
    exported = pipeline(model=export_saved_model(features, tmp_path / "features"))
    for a, b in zip(exported(TEXTS), features(TEXTS)):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-5)


@pytest.mark.slow
def test_beam_writes_one_vector_per_text_in_jsonl_and_parquet(eager, tmp_path):
    import pyarrow.parquet as pq

    from tf_pipeline.beam.transforms import score_files

    pipe = eager["sentence-embeddings"]
    version = export_saved_model(pipe, tmp_path / "export")
    (tmp_path / "in.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    expected = {text: vector for text, vector in zip(TEXTS, pipe(TEXTS))}
    for output_format in ("jsonl", "parquet"):
        summary = score_files(str(version), str(tmp_path / "in.txt"), str(tmp_path / output_format),
                              output_format=output_format)
        assert summary["texts_scored"] == len(TEXTS)
        files = sorted(tmp_path.glob(f"{output_format}-*-of-*.{output_format}"))
        if output_format == "jsonl":
            rows = [json.loads(line) for path in files for line in path.read_text().splitlines()]
        else:
            rows = [row for path in files for row in pq.read_table(path).to_pylist()]
        assert len(rows) == len(TEXTS)
        for row in rows:
            np.testing.assert_allclose(row["embedding"], expected[row["text"]], atol=1e-5)
    from tf_pipeline import InvalidInputError

    with pytest.raises(InvalidInputError, match="csv holds one value per column"):
        score_files(str(version), str(tmp_path / "in.txt"), str(tmp_path / "csv"), output_format="csv")
