"""The front door: :func:`pipeline` (any task, like ``transformers.pipeline``) and
:func:`load_pipeline` (text classification), the calls that may build the default model first.

Everything below them takes an explicit model; only these (and ``tf-pipeline build-default``)
train, so loading a checkpoint never starts a fine-tune by accident. They also open exports, so
one call answers with a checkpoint, a SavedModel export or a .tflite file.

Example:
    >>> pipe = pipeline("sentiment-analysis")            # the default model, built on first use  # doctest: +SKIP
    >>> pipeline("sentence-embeddings")(["a text", "another"]).shape   # the shipped encoder       # doctest: +SKIP
    (2, 384)
    >>> pipeline(model="saved_models/sentiment")(["I love it"])  # an export: its task, no checkpoint  # doctest: +SKIP
    >>> load_pipeline(runtime="tflite-int8")(["I love it"])       # the same answers, LiteRT's speed    # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from typing import Any

from tf_pipeline import errors
from tf_pipeline.checkpoints.locations import default_choice
from tf_pipeline.export.runtimes import RUNTIMES
from tf_pipeline.runners.base import Runner
from tf_pipeline.runners.graph import GraphPipeline
from tf_pipeline.tasks import task_name

ENCODER_TASKS = ("feature-extraction", "sentence-embeddings")  # their default model: the shipped encoder


def pipeline(task: str | None = None, model: str | os.PathLike | None = None, *, runtime: str = "tf",
             max_length: int | None = None, jit_compile: bool = False, num_labels: int | None = None,
             id2label: dict[int, str] | list[str] | None = None, framework: str | None = None,
             **task_options: Any) -> Runner:
    """A pipeline for ``task`` on ``model``, as ``transformers.pipeline(task, model=...)`` makes one.

    Args:
        task: a task name or alias (``tf_pipeline.tasks.task_names()``); default: the one the
            checkpoint's config or the export's metadata names.
        model: a checkpoint folder, a hub id, a SavedModel export folder or a .tflite file; default:
            the built sentiment model (text classification) or the shipped MiniLM encoder
            (feature extraction, sentence embeddings).
        runtime: "tf" (the TensorFlow graph), "tflite" or "tflite-int8" (LiteRT; converted on first
            use and cached).
        max_length: truncate texts to this many tokens (default: the task's or the model's limit).
        jit_compile: run the model under XLA (the tf runtime only).
        num_labels: a classification head with this many labels (new, if the checkpoint has none).
        id2label: the label names, as a list or a dict.
        framework: "tf" or None (there is no other).
        task_options: what every call uses unless it says otherwise, as HF takes them when a
            pipeline is made (``top_k``, ``function_to_apply``, ``normalize_embeddings``, ...).

    Returns:
        A :class:`~tf_pipeline.runners.base.Runner`: call it like HF's pipeline of the task.

    Raises:
        InvalidInputError: neither task nor model, an unknown task, an option the task does not take,
            or a task that does not match the export's.
        CheckpointNotFoundError: no such model.

    Example:
        >>> pipe = pipeline("text-classification", model="path/to/checkpoint", top_k=None)  # doctest: +SKIP
        >>> pipe("good")                                                                   # doctest: +SKIP
        [{'label': 'POSITIVE', 'score': 0.98...}, {'label': 'NEGATIVE', 'score': 0.01...}]
    """
    if framework not in (None, "tf"):
        raise errors.InvalidInputError(f"framework={framework!r}: tf_pipeline runs TensorFlow only (framework='tf').")
    name = task_name(task) if task is not None else None
    if name is None and model is None:
        raise errors.InvalidInputError("pipeline needs a task, a model, or both (e.g. pipeline('sentiment-analysis')).")
    check_runtime(runtime, jit_compile)
    if model is not None and is_export_path(model):
        _refuse_export_options(model, num_labels=num_labels, id2label=id2label, max_length=max_length,
                               jit_compile=jit_compile, runtime=None if runtime == "tf" else runtime)
        export = _open_export(model)
        if name is not None and name != export.task.name:
            raise errors.InvalidInputError(f"{model} is a {export.task.name} export, not {name}.")
        return export.set_defaults(**task_options)
    model = _default_model(name) if model is None else _built_default(model)
    from tf_pipeline.checkpoints.loading import load_checkpoint

    checkpoint = load_checkpoint(model, task=name, num_labels=num_labels, id2label=id2label, lazy=True)
    if runtime != "tf":
        from tf_pipeline.export.tflite.cache import tflite_pipeline

        pipe = tflite_pipeline(checkpoint, runtime=runtime, max_length=max_length)
    else:
        pipe = GraphPipeline(checkpoint, max_length=max_length, jit_compile=jit_compile, forward_cache=True)
    return pipe.set_defaults(**task_options)


def check_runtime(runtime: str, jit_compile: bool = False) -> None:
    """An error for an unknown runtime, or XLA asked for off the tf runtime."""
    if runtime not in RUNTIMES:
        raise errors.InvalidInputError(f"runtime must be one of {', '.join(RUNTIMES)}; got {runtime!r}.")
    if runtime != "tf" and jit_compile:
        raise errors.InvalidInputError(f"jit_compile (XLA) is for the tf runtime, not {runtime}.")


def _default_model(task: str) -> Path:
    """The model a task runs without one: the shipped encoder, or the default sentiment model (built once)."""
    if task in ENCODER_TASKS:
        from tf_pipeline.checkpoints.locations import default_encoder_dir

        return default_encoder_dir()
    if task != "text-classification":
        raise errors.InvalidInputError(f"{task} has no default model; pass model=.")
    return _built_default(None)


def _built_default(model: str | os.PathLike | None) -> str | os.PathLike:
    """``model`` itself, or, if it names an embedded default (``None``, ``"small"``), that model's folder,
    built first if needed."""
    small = default_choice(model)
    if small is None:
        return model
    from tf_pipeline.training.default_model import ensure_default_model

    return ensure_default_model(small=small)


def _refuse_export_options(model, **given) -> None:
    """An export fixes its labels, length and runtime when it is made: refuse options that would change them."""
    named = [errors.option(name, value) for name, value in given.items() if value]
    if named:
        raise errors.InvalidInputError(f"{model} is an export; {', '.join(named)} cannot change it.")


def load_pipeline(
    model: str | os.PathLike | None = None,
    *,
    num_labels: int | None = None,
    id2label: dict[int, str] | list[str] | None = None,
    max_length: int | None = None,
    jit_compile: bool = False,
    runtime: str = "tf",
) -> Runner:
    """A text-classification pipeline from a hub id, a checkpoint folder, the default model (``None``),
    a SavedModel export folder or a .tflite file.

    With ``None`` the default model is built first if needed (about 5 minutes, once).
    ``jit_compile=True`` runs the model under XLA with inputs padded to length buckets.
    ``runtime``: "tf" (the TensorFlow graph), "tflite" (LiteRT, float32) or "tflite-int8" (LiteRT,
    int8 weights: the fastest on CPU, labels agree with float32 on 99.4% of the benchmark's texts); a
    checkpoint is converted on first use and the .tflite cached (:mod:`~tf_pipeline.export.tflite.cache`).
    Exports answer the same way but fix their labels and length when they are made, so the
    other options are refused for them.

    Example:
        >>> load_pipeline()("I love it")                  # doctest: +SKIP
        [{'label': 'POSITIVE', 'score': 0.99...}]
    """
    check_runtime(runtime, jit_compile)
    if model is not None and is_export_path(model):
        _refuse_export_options(model, num_labels=num_labels, id2label=id2label, max_length=max_length,
                               jit_compile=jit_compile, runtime=None if runtime == "tf" else runtime)
        export = _open_export(model)
        if export.task.name != "text-classification":
            raise errors.InvalidInputError(
                f"{model} is a {export.task.name} export; load_pipeline is for text classification: "
                f"use pipeline(model={str(model)!r}).")
        return export
    model = _built_default(model)
    if runtime != "tf":
        from tf_pipeline.checkpoints.loading import load_checkpoint
        from tf_pipeline.export.tflite.cache import tflite_pipeline

        checkpoint = load_checkpoint(model, task="text-classification", num_labels=num_labels, id2label=id2label,
                                     lazy=True)
        return tflite_pipeline(checkpoint, runtime=runtime, max_length=max_length)
    from tf_pipeline.runners.graph import TextClassificationPipeline

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


def _open_export(model: str | os.PathLike) -> Runner:
    """A runner for a SavedModel export or a .tflite file (:func:`is_export_path`)."""
    if Path(model).suffix == ".tflite":
        from tf_pipeline.export.tflite.runtime import TFLitePipeline

        return TFLitePipeline(Path(model).expanduser())
    from tf_pipeline.export.saved_model.runtime import SavedModelPipeline

    return SavedModelPipeline(model if "://" in str(model) else Path(model).expanduser())
