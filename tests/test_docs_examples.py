"""The docs' "try it" examples on the tiny models of scripts/make_tiny_model.py answer what docs/tasks.md and
docs/zero-shot.md show."""

import ast
import importlib.util
import re
from pathlib import Path

import numpy as np

from tf_pipeline import export_saved_model, pipeline

ROOT = Path(__file__).resolve().parents[1]
TASKS_DOC = (ROOT / "docs" / "tasks.md").read_text(encoding="utf-8")
ZERO_SHOT_DOC = (ROOT / "docs" / "zero-shot.md").read_text(encoding="utf-8")


def make_tiny_model(folder, **options):
    spec = importlib.util.spec_from_file_location("make_tiny_model", ROOT / "scripts" / "make_tiny_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_tiny_model(folder, **options)


def test_the_tiny_reranker_answers_the_pair_as_the_docs_show(tmp_path):
    answer = pipeline(model=str(make_tiny_model(tmp_path / "tiny-reranker")))(
        {"text": "how far is the moon", "text_pair": "The moon is far away."})
    label, score = re.search(r'"label": "(\w+)", "score": (0\.\d+)\.\.\.', TASKS_DOC).groups()
    assert answer["label"] == label and f"{answer['score']:.6f}".startswith(score)


def test_the_tiny_nli_export_answers_the_request_as_the_docs_show(tmp_path):
    import tensorflow as tf

    folder = make_tiny_model(tmp_path / "tiny-nli", nli=True)
    loaded = tf.saved_model.load(str(export_saved_model(pipeline("zero-shot-classification", model=str(folder)),
                                                        tmp_path / "zero-shot")))
    outputs = loaded.signatures["serving_default"](
        sequences=tf.constant(["The battery died after an hour.", "A gripping thriller."]),
        candidate_labels=tf.constant(["electronics", "film", "travel"]))
    shown = re.search(r'# \{"outputs": \{"labels": (\[\[.*?\]\]),\n#\s+"scores": (\[\[.*?\]\])', ZERO_SHOT_DOC)
    labels, scores = (ast.literal_eval(group) for group in shown.groups())
    assert [[label.decode() for label in row] for row in outputs["labels"].numpy()] == labels
    np.testing.assert_allclose(outputs["scores"].numpy(), scores, atol=1e-4)  # the docs show 4 decimals
