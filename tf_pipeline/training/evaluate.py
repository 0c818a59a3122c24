"""Accuracy on labelled texts, for any runner (the pipeline, a SavedModel, a .tflite file), and
how far a converted model strays from the pipeline it came from.

Example:
    >>> evaluate(load_pipeline(), sentiment_set("heldout"))
    {'accuracy': 0.96, 'correct': 146, 'total': 152}
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from tf_pipeline import errors
from tf_pipeline.training.data import LabelledText

logger = logging.getLogger(__name__)


def evaluate(pipe, examples: Sequence[LabelledText], *, batch_size: int = 32) -> dict:
    """Accuracy of ``pipe`` on labelled examples (labels compared as names, or ids as ``LABEL_i``).

    Labels the model does not have are an error naming each and where it first appears.

    Example:
        >>> evaluate(load_pipeline(), sentiment_set("heldout"))["accuracy"]
    """
    expected = [_label_name(example.label, pipe.labels) for example in examples]
    unknown = {}
    for example, name in zip(examples, expected):
        if name is None:
            unknown.setdefault(example.label, example.source or "an example")
    if unknown:
        listed = "; ".join(f"{label!r} first at {where}" for label, where in unknown.items())
        raise errors.InvalidInputError(
            f"Labels the model does not have ({', '.join(pipe.labels)}): {listed}. "
            "Relabel the data with the model's label names or ids."
        )
    predicted = pipe([example.text for example in examples], batch_size=batch_size)
    correct = sum(guess["label"] == truth for guess, truth in zip(predicted, expected))
    return {"accuracy": correct / len(examples), "correct": correct, "total": len(examples)}


def _label_name(label: str | int, labels: Sequence[str]) -> str | None:
    """The model's name for a data label (a name, or an id), or None if it has no such label."""
    if isinstance(label, int):
        return labels[label] if 0 <= label < len(labels) else None
    return str(label) if str(label) in labels else None



def tflite_report(tflite_pipe, pipe, examples: Sequence[LabelledText]) -> dict:
    """Size, agreement with the TF pipeline, and accuracy of both on labelled ``examples``.

    ``tflite_pipe``: a ``TFLitePipeline``; ``examples``: e.g. the held-out split.
    """
    texts = [example.text for example in examples]
    ours, theirs = [], []
    for start in range(0, len(texts), 32):
        batch = texts[start:start + 32]
        ours.append(np.asarray(tflite_pipe.scores(tflite_pipe.forward(tflite_pipe.preprocess(batch)))))
        theirs.append(pipe.scores(pipe.forward(pipe.preprocess(batch))).numpy())
    ours, theirs = np.concatenate(ours), np.concatenate(theirs)
    report = {
        "file": str(tflite_pipe.path),
        "quantize": tflite_pipe.metadata.quantize,
        "size_mb": round(tflite_pipe.path.stat().st_size / 1e6, 2),
        "texts": len(texts),
        "top1_agreement": float(np.mean(ours.argmax(-1) == theirs.argmax(-1))),
        "max_probability_difference": float(np.max(np.abs(ours - theirs))),
    }
    if set(str(example.label) for example in examples) <= set(pipe.labels):
        report["accuracy"] = evaluate(tflite_pipe, examples)["accuracy"]
        report["tf_accuracy"] = evaluate(pipe, examples)["accuracy"]
        report["accuracy_drop_points"] = round(100 * (report["tf_accuracy"] - report["accuracy"]), 2)
        if report["accuracy_drop_points"] > 2:
            logger.warning("%s loses %.1f points of accuracy against the TF pipeline.",
                           report["quantize"], report["accuracy_drop_points"])
    return report
