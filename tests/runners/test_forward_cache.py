"""The compiled forward cached on disk: a new process answers from it without loading the model,
with the same answers; it follows changes to the checkpoint and never freezes a random head."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from tf_pipeline import UntrainedHeadWarning
from tf_pipeline.runners import forward_cache
from tf_pipeline.runners.graph import TextClassificationPipeline

TEXTS = ["a fine day", "not good at all, really not", "ok"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_PIPELINE_HOME", str(tmp_path))
    monkeypatch.delenv(forward_cache.DISABLE_VARIABLE, raising=False)
    return tmp_path


def _cached(home) -> list:
    root = home / "cache" / "forward"
    return sorted(path.name for path in root.iterdir() if (path / forward_cache.MANIFEST).is_file()) if root.is_dir() else []


def _logits(pipe) -> np.ndarray:
    return pipe.run(TEXTS)["logits"]


def test_a_new_process_answers_from_the_cache_without_loading_the_model(home, tiny_checkpoint):
    folder, _, _ = tiny_checkpoint("bert")
    live = TextClassificationPipeline.from_pretrained(folder, forward_cache=False)
    assert _cached(home) == []
    TextClassificationPipeline.from_pretrained(folder)  # writes the cache
    assert len(_cached(home)) == 1
    code = (
        "import json, sys\n"
        "from tf_pipeline.runners.graph import TextClassificationPipeline\n"
        "pipe = TextClassificationPipeline.from_pretrained(sys.argv[1])\n"
        "logits = pipe.run(json.loads(sys.argv[2]))['logits'].tolist()\n"
        "print(json.dumps({'loaded': pipe.checkpoint.model_loaded, 'logits': logits, 'answers': pipe(json.loads(sys.argv[2]))}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(folder), json.dumps(TEXTS)], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["loaded"] is False  # the Keras model was never built
    np.testing.assert_allclose(answer["logits"], _logits(live), atol=1e-5)
    assert [item["label"] for item in answer["answers"]] == [item["label"] for item in live(TEXTS)]


def test_using_the_model_switches_to_the_live_model(home, tiny_checkpoint):
    folder, _, _ = tiny_checkpoint("bert")
    TextClassificationPipeline.from_pretrained(folder)
    pipe = TextClassificationPipeline.from_pretrained(folder)
    assert not pipe.checkpoint.model_loaded
    before = _logits(pipe)
    weights = pipe.model.classifier.kernel  # loads the model; later calls must use it
    weights.assign(weights * 2.0)
    assert pipe.checkpoint.model_loaded
    assert not np.allclose(_logits(pipe), before, atol=1e-4)


def test_the_cache_follows_the_checkpoint_and_its_labels(home, tiny_checkpoint, tmp_path):
    import shutil

    folder, _, _ = tiny_checkpoint("bert")
    copy = shutil.copytree(folder, tmp_path / "copy")
    first = forward_cache.cache_folder(TextClassificationPipeline.from_pretrained(copy).checkpoint)
    relabelled = TextClassificationPipeline.from_pretrained(copy, id2label=["bad", "meh", "good"]).checkpoint
    assert forward_cache.cache_folder(relabelled) != first
    os.utime(copy / "model.safetensors", ns=(1, 1))  # the weights file changed
    changed = TextClassificationPipeline.from_pretrained(copy)
    assert forward_cache.cache_folder(changed.checkpoint) != first
    assert changed.checkpoint.model_loaded  # a miss: built from the files


def test_a_new_random_head_is_never_cached(home, tiny_checkpoint):
    folder, _, _ = tiny_checkpoint("bert", base=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        TextClassificationPipeline.from_pretrained(folder)
    assert _cached(home) == []
    with pytest.warns(UntrainedHeadWarning):  # still warned on every load
        TextClassificationPipeline.from_pretrained(folder)


def test_a_broken_cache_is_rebuilt(home, tiny_checkpoint, caplog):
    folder, _, _ = tiny_checkpoint("bert")
    expected = _logits(TextClassificationPipeline.from_pretrained(folder))
    (cached,) = _cached(home)
    for path in (home / "cache" / "forward" / cached / "variables").iterdir():
        path.write_bytes(b"broken")
    pipe = TextClassificationPipeline.from_pretrained(folder)
    assert "unreadable forward cache" in caplog.text
    np.testing.assert_allclose(_logits(pipe), expected, atol=1e-6)
    assert _cached(home) == [cached]


def test_the_cache_can_be_turned_off(home, tiny_checkpoint, monkeypatch):
    folder, _, _ = tiny_checkpoint("bert")
    TextClassificationPipeline.from_pretrained(folder, forward_cache=False)
    monkeypatch.setenv(forward_cache.DISABLE_VARIABLE, "1")
    TextClassificationPipeline.from_pretrained(folder)
    assert _cached(home) == []


def test_prune_keeps_the_most_recently_used(tmp_path):
    for index in range(forward_cache.KEEP + 3):
        (tmp_path / f"entry{index}").mkdir()
        (tmp_path / f"entry{index}" / forward_cache.MANIFEST).write_text("{}")
        os.utime(tmp_path / f"entry{index}" / forward_cache.MANIFEST, ns=(index, index))
    forward_cache.prune(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        f"entry{index}" for index in range(3, forward_cache.KEEP + 3))
