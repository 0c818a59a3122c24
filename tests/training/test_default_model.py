"""The embedded defaults: the MPNet default as built by the set-up, the small one by name, and how each is picked."""

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import SEED_SENTENCES
from tf_pipeline import CheckpointNotFoundError, InvalidInputError, load_checkpoint, load_pipeline
from tf_pipeline.checkpoints.locations import DEFAULT_VARIABLE, default_choice, default_model_dir, resolve_model_dir
from tf_pipeline.training.data import sentiment_set
from tf_pipeline.training.evaluate import evaluate

TORCH_PYTHON = Path(__file__).resolve().parents[2] / ".venv-torch" / "bin" / "python"


def test_the_default_is_a_standard_mpnet_classifier(mpnet_default):
    folder = Path(mpnet_default.source)
    config = json.loads((folder / "config.json").read_text())
    assert (config["model_type"], config["architectures"]) == ("mpnet", ["MPNetForSequenceClassification"])
    assert type(mpnet_default.model).__name__ == "TFMPNetForSequenceClassification"
    assert config["id2label"] == {"0": "NEGATIVE", "1": "POSITIVE"}
    assert {"tokenizer.json", "tf_model.h5", "metrics.json"} <= {path.name for path in folder.iterdir()}
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["settings"]["top_layers"] >= 1 and metrics["build_seconds"] > 0


def test_the_seed_sentences(mpnet_default):
    answers = mpnet_default(SEED_SENTENCES)
    assert [answer["label"] for answer in answers] == ["POSITIVE", "NEGATIVE"]
    assert all(answer["score"] >= 0.9 for answer in answers), answers


DOCS_WITH_ANSWERS = ("README.md", "docs/python.md")
STATED = re.compile(r"""^pipe\("([^"]+)"\)\s+# \[\{'label': '(\w+)', 'score': ([0-9.]+)\.\.\.\}\]""", re.M)


def test_the_answers_the_docs_state_are_the_defaults(mpnet_default):
    """``pipe("…")  # [{'label': 'NEGATIVE', 'score': 0.99...}]`` in the docs: the default's label, and its score
    starts with those digits."""
    root = Path(__file__).resolve().parents[2]
    stated = [match for name in DOCS_WITH_ANSWERS for match in STATED.findall((root / name).read_text())]
    assert len(stated) >= 2
    for text, label, score in stated:
        answer = mpnet_default(text)[0]
        assert answer["label"] == label and f"{answer['score']:.10f}".startswith(score), (text, answer)


def test_the_default_reaches_its_recorded_heldout_accuracy(mpnet_default):
    """The built model answers as its build measured it (a margin of two sentences for another CPU's rounding)."""
    metrics = json.loads((Path(mpnet_default.source) / "metrics.json").read_text())
    heldout = evaluate(mpnet_default, sentiment_set("heldout"))
    assert abs(heldout["accuracy"] - metrics["heldout"]["accuracy"]) <= 2 / heldout["total"]
    assert heldout["accuracy"] >= 0.9


def test_small_names_the_small_default(tmp_path, monkeypatch):
    assert default_choice("small") is True and default_choice("org/model") is None
    monkeypatch.setenv(DEFAULT_VARIABLE, "small")
    assert default_choice(None) is True
    monkeypatch.setenv(DEFAULT_VARIABLE, "default")
    assert default_choice(None) is False
    monkeypatch.setenv(DEFAULT_VARIABLE, "large")
    with pytest.raises(InvalidInputError, match="must be 'default' or 'small'"):
        default_choice(None)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small").mkdir()  # a local folder of that name wins
    assert default_choice("small") is None and resolve_model_dir("small") == Path("small")


def test_an_unbuilt_default_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_PIPELINE_HOME", str(tmp_path))
    with pytest.raises(CheckpointNotFoundError, match="small default model is not built.*build-default --small"):
        load_checkpoint("small")
    monkeypatch.setenv(DEFAULT_VARIABLE, "default")
    with pytest.raises(CheckpointNotFoundError, match=r"The default model is not built.*build-default`"):
        load_checkpoint(None)


def test_the_small_default_answers_by_name(default_pipe):
    assert Path(default_pipe.source) == default_model_dir(small=True)
    assert load_pipeline("small").source == default_pipe.source
    assert [answer["label"] for answer in default_pipe(SEED_SENTENCES)] == ["POSITIVE", "NEGATIVE"]


@pytest.mark.slow
@pytest.mark.skipif(not TORCH_PYTHON.exists(), reason="no .venv-torch (scripts/setup_torch.sh makes it)")
def test_the_default_matches_pytorch_on_the_same_weights(mpnet_default, tmp_path):
    """HF's PyTorch MPNetForSequenceClassification on the default's weights (written without torch): same logits."""
    from tf_pipeline.checkpoints.pytorch_format import save_for_pytorch

    folder = save_for_pytorch(load_checkpoint(mpnet_default.source), tmp_path / "for-torch")
    texts = SEED_SENTENCES + [row.text for row in sentiment_set("evaluation")[:62]]
    (tmp_path / "texts.json").write_text(json.dumps(texts))
    code = (
        "import json, sys, torch, transformers\n"
        "folder, texts = sys.argv[1], json.load(open(sys.argv[2]))\n"
        "model = transformers.AutoModelForSequenceClassification.from_pretrained(folder).eval()\n"
        "assert type(model).__name__ == 'MPNetForSequenceClassification'\n"
        "tokens = transformers.AutoTokenizer.from_pretrained(folder)(texts, padding=True, truncation=True, "
        "max_length=128, return_tensors='pt')\n"
        "with torch.no_grad():\n"
        "    print(json.dumps(model(**tokens).logits.tolist()))\n"
    )
    done = subprocess.run([str(TORCH_PYTHON), "-c", code, str(folder), str(tmp_path / "texts.json")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = np.array(json.loads(done.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(mpnet_default.run(texts)["logits"], theirs, atol=1e-4)


@pytest.mark.slow
def test_every_runtime_answers_like_the_eager_default(mpnet_default, tmp_path):
    """The MPNet default as a SavedModel (strings in, a fresh process) and as TFLite float32: the eager logits."""
    import sys

    from tf_pipeline import convert_to_tflite, export_saved_model
    from tf_pipeline.export.tflite.runtime import TFLitePipeline

    texts = SEED_SENTENCES + [row.text for row in sentiment_set("critics")[:30]]
    reference = mpnet_default.run(texts)["logits"]
    version = export_saved_model(mpnet_default, tmp_path / "export")
    code = ("import json, sys\n"
            "import tensorflow as tf, tensorflow_text\n"
            "out = tf.saved_model.load(sys.argv[1]).signatures['serving_default'](text=tf.constant(json.loads(sys.argv[2])))\n"
            "print(json.dumps(out['logits'].numpy().tolist()))\n")
    done = subprocess.run([sys.executable, "-c", code, str(version), json.dumps(texts)], capture_output=True,
                          text=True, check=True, timeout=600)
    np.testing.assert_allclose(json.loads(done.stdout.strip().splitlines()[-1]), reference, atol=1e-4)
    lite = TFLitePipeline(convert_to_tflite(mpnet_default, tmp_path / "f32.tflite"))
    np.testing.assert_allclose(lite.run(texts)["logits"], reference, atol=1e-4)
