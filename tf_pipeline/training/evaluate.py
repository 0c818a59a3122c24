"""Accuracy on labelled texts, for any runner (the pipeline, a SavedModel, a .tflite file), and
how far a converted model strays from the pipeline it came from.

Example:
    >>> evaluate(load_pipeline(), sentiment_set("heldout"))    # doctest: +SKIP
    {'accuracy': 0.96..., 'correct': ..., 'total': ...}
"""

from __future__ import annotations

import logging
import sys
from typing import Sequence

import numpy as np

from tf_pipeline import errors
from tf_pipeline.runners.base import Runner
from tf_pipeline.tasks.text_classification import numpy_scores
from tf_pipeline.training.data import LabelledText

logger = logging.getLogger(__name__)


def labels_of(pipe: Runner) -> tuple[str, ...]:
    """The label names of a text-classification runner; an error for a runner of another task."""
    if pipe.task.name != "text-classification":
        raise errors.InvalidInputError(f"accuracy is measured on text classification; {pipe.source} answers {pipe.task.name}.")
    return pipe.task.labels


def evaluate(pipe: Runner, examples: Sequence[LabelledText], *, batch_size: int = 32, progress: bool = False) -> dict:
    """Accuracy of ``pipe`` on labelled examples, texts or text pairs (labels compared as names, or ids as ``LABEL_i``).

    Args:
        pipe: a text-classification runner (the TF graph, a SavedModel, a .tflite file).
        examples: the labelled texts.
        batch_size: texts per forward pass.
        progress: a progress bar on stderr.

    Returns:
        ``accuracy``, ``correct`` and ``total``.

    Raises:
        InvalidInputError: labels the model does not have (each named, with where it first appears),
            or a runner of another task.

    Example:
        >>> evaluate(load_pipeline(), sentiment_set("heldout"))["accuracy"]   # doctest: +SKIP
        0.96...
    """
    labels = labels_of(pipe)
    expected = [_label_name(example.label, labels) for example in examples]
    unknown = {}
    for example, name in zip(examples, expected):
        if name is None:
            unknown.setdefault(example.label, example.source or "an example")
    if unknown:
        listed = "; ".join(f"{label!r} first at {where}" for label, where in unknown.items())
        raise errors.InvalidInputError(
            f"Labels the model does not have ({', '.join(labels)}): {listed}. "
            "Relabel the data with the model's label names or ids."
        )
    from tqdm import tqdm

    answers = pipe.stream([example.model_input for example in examples], batch_size=batch_size)
    predicted = [ranked[0]["label"] for ranked in tqdm(answers, total=len(examples), unit="text", file=sys.stderr,
                                                       disable=not progress, desc="evaluate")]
    correct = sum(guess == truth for guess, truth in zip(predicted, expected))
    return {"accuracy": correct / len(examples), "correct": correct, "total": len(examples)}


def _label_name(label: str | int, labels: Sequence[str]) -> str | None:
    """The model's name for a data label (a name, or an id), or None if it has no such label."""
    if isinstance(label, int):
        return labels[label] if 0 <= label < len(labels) else None
    return str(label) if str(label) in labels else None



def probabilities(pipe: Runner, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """``[len(texts), num_labels]`` scores of a text-classification runner, with its function."""
    labels_of(pipe)
    rows = [numpy_scores(pipe.run(list(texts[start:start + batch_size]))["logits"], pipe.task.function_to_apply)
            for start in range(0, len(texts), batch_size)]
    return np.concatenate(rows) if rows else np.zeros([0, len(pipe.task.labels)], np.float32)


def output_agreement(converted: Runner, pipe: Runner, texts: Sequence[str], batch_size: int = 32) -> dict:
    """How far a converted runner's outputs stray from ``pipe``'s on ``texts``: per output the largest
    absolute difference, and for embeddings the cosine similarity (mean and lowest) per text."""
    report = {}
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start:start + batch_size])
        ours, theirs = converted.run(batch), pipe.run(batch)
        for name in sorted(set(ours) & set(theirs)):
            a, b = np.asarray(ours[name], np.float64), np.asarray(theirs[name], np.float64)
            key = f"{name}_max_difference"
            report[key] = max(report.get(key, 0.0), float(np.max(np.abs(a - b), initial=0.0)))
            if name == "embedding":
                cosines = np.sum(a * b, -1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)
                report.setdefault("_cosines", []).extend(cosines.tolist())
    cosines = report.pop("_cosines", None)
    if cosines:
        report["cosine_mean"], report["cosine_min"] = float(np.mean(cosines)), float(np.min(cosines))
    return report


def tflite_report(tflite_pipe, pipe, examples: Sequence[LabelledText]) -> dict:
    """Size, agreement with the TF pipeline, and accuracy of both on labelled ``examples``.

    ``tflite_pipe``: a ``TFLitePipeline``; ``examples``: e.g. the held-out split. For a task other
    than text classification, the agreement of the outputs (:func:`output_agreement`) on their texts.
    """
    texts = [example.text for example in examples]
    if pipe.task.name != "text-classification":
        return {"file": str(tflite_pipe.path), "quantize": tflite_pipe.metadata.quantize,
                "size_mb": round(tflite_pipe.path.stat().st_size / 1e6, 2), "texts": len(texts),
                **output_agreement(tflite_pipe, pipe, texts)}
    ours, theirs = probabilities(tflite_pipe, texts), probabilities(pipe, texts)
    report = {
        "file": str(tflite_pipe.path),
        "quantize": tflite_pipe.metadata.quantize,
        "size_mb": round(tflite_pipe.path.stat().st_size / 1e6, 2),
        "texts": len(texts),
        "top1_agreement": float(np.mean(ours.argmax(-1) == theirs.argmax(-1))),
        "max_probability_difference": float(np.max(np.abs(ours - theirs))),
    }
    if set(str(example.label) for example in examples) <= set(labels_of(pipe)):
        report["accuracy"] = evaluate(tflite_pipe, examples)["accuracy"]
        report["tf_accuracy"] = evaluate(pipe, examples)["accuracy"]
        report["accuracy_drop_points"] = round(100 * (report["tf_accuracy"] - report["accuracy"]), 2)
        if report["accuracy_drop_points"] > 2:
            logger.warning("%s", accuracy_warning(report["quantize"], report["accuracy_drop_points"]))
    return report


def accuracy_warning(quantize: str, points: float) -> str:
    """What ``convert`` says when a TFLite file loses more than 2 points of accuracy, with what to try instead.

    Example:
        >>> accuracy_warning("int8", 5.3)[:58]
        'int8 loses 5.3 points of accuracy against the TF pipeline.'
    """
    message = f"{quantize} loses {points:.1f} points of accuracy against the TF pipeline."
    if quantize == "int8":
        message += (" Full-integer int8 depends on its calibration: try --quantize dynamic-int8 (int8 weights, "
                    "float activations; nearly as fast), or calibrate on more texts like yours (--calibration-data).")
    return message
