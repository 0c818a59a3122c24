"""The front door: :func:`load_pipeline`, the one call that may build the default model first.

Everything below it takes an explicit model; only this function (and ``tf-pipeline build-default``)
trains, so loading a checkpoint never starts a fine-tune by accident. It also opens exports, so
one call classifies with a checkpoint, a SavedModel export or a .tflite file.

Example:
    >>> pipe = load_pipeline()                          # the default model, built on first use
    >>> pipe = load_pipeline("path/to/checkpoint", id2label=["NEGATIVE", "POSITIVE"])
    >>> pipe.tokenizer, pipe.model, pipe.config
    >>> load_pipeline("saved_models/sentiment")(["I love it"])     # an export, no checkpoint needed
    >>> load_pipeline(runtime="tflite-int8")(["I love it"])         # the same answers, LiteRT's speed
"""

from __future__ import annotations

import os
from pathlib import Path

from tf_pipeline import errors
from tf_pipeline.export.runtimes import RUNTIMES
from tf_pipeline.pipeline.base import Classifier
from tf_pipeline.pipeline.text_classification import TextClassificationPipeline


def load_pipeline(
    model: str | os.PathLike | None = None,
    *,
    num_labels: int | None = None,
    id2label: dict[int, str] | list[str] | None = None,
    max_length: int | None = None,
    jit_compile: bool = False,
    runtime: str = "tf",
) -> TextClassificationPipeline | Classifier:
    """A text-classification pipeline from a hub id, a checkpoint folder, the default model (``None``),
    a SavedModel export folder or a .tflite file.

    With ``None`` the default model is built first if needed (about 5 minutes, once).
    ``jit_compile=True`` runs the model under XLA with inputs padded to length buckets.
    ``runtime``: "tf" (the TensorFlow graph), "tflite" (LiteRT, float32) or "tflite-int8" (LiteRT,
    int8 weights: the fastest on CPU, labels agree with float32 on 99.4% of the benchmark's texts); a
    checkpoint is converted on first use and the .tflite cached (:mod:`~tf_pipeline.export.tflite_cache`).
    Exports answer the same way but fix their labels and length when they are made, so the
    other options are refused for them.
    """
    if runtime not in RUNTIMES:
        raise errors.InvalidInputError(f"runtime must be one of {', '.join(RUNTIMES)}; got {runtime!r}.")
    if runtime != "tf" and jit_compile:
        raise errors.InvalidInputError(f"jit_compile (XLA) is for the tf runtime, not {runtime}.")
    export = _open_export(model) if model is not None else None
    if export is not None:
        given = [name for name, value in (("num_labels", num_labels), ("id2label", id2label), ("max_length", max_length),
                                          ("jit_compile", jit_compile), ("runtime", runtime != "tf")) if value]
        if given:
            raise errors.InvalidInputError(f"{model} is an export; {', '.join(given)} cannot change it.")
        return export
    if model is None:
        from tf_pipeline.training.default_model import ensure_default_model

        model = ensure_default_model()
    if runtime != "tf":
        from tf_pipeline.checkpoints.loading import load_checkpoint
        from tf_pipeline.export.tflite_cache import tflite_pipeline

        checkpoint = load_checkpoint(model, num_labels=num_labels, id2label=id2label, lazy=True)
        return tflite_pipeline(checkpoint, runtime=runtime, max_length=max_length)
    return TextClassificationPipeline.from_pretrained(
        model, num_labels=num_labels, id2label=id2label, max_length=max_length, jit_compile=jit_compile
    )


def is_export_path(model: str | os.PathLike) -> bool:
    """A SavedModel export folder (not a checkpoint) or a path ending in .tflite."""
    from tf_pipeline.export.layout import is_export

    if "://" in str(model):  # gs://… and other TensorFlow file systems: exports only
        return is_export(model)
    path = Path(model).expanduser()
    return path.suffix == ".tflite" or (path.is_dir() and not (path / "config.json").is_file() and is_export(path))


def _open_export(model: str | os.PathLike) -> Classifier | None:
    """A runner for a SavedModel export or a .tflite file; None for anything else (a checkpoint)."""
    if not is_export_path(model):
        return None
    if Path(model).suffix == ".tflite":
        from tf_pipeline.export.tflite_runtime import TFLitePipeline

        return TFLitePipeline(Path(model).expanduser())
    from tf_pipeline.export.saved_model_runtime import SavedModelPipeline

    return SavedModelPipeline(model if "://" in str(model) else Path(model).expanduser())
