"""The fastest runtime one argument away: a checkpoint converted to .tflite on first use and cached,
so ``load_pipeline(model, runtime="tflite-int8")`` answers like the TF pipeline at TFLite's speed.

Cached under ``<models home>/cache/tflite/`` by the checkpoint's key (its files, its task and the
graph version: :func:`~tf_pipeline.runners.forward_cache.checkpoint_key`), the length limit and the quantization; a checkpoint with a new, random head is converted every time
instead (it would freeze one random head).

Example:
    >>> pipe = tflite_pipeline(load_checkpoint("path/to/checkpoint", lazy=True), runtime="tflite-int8")  # doctest: +SKIP
    >>> pipe(["I love it"])                                                                          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from tf_pipeline.checkpoints.loading import Checkpoint, default_max_length
from tf_pipeline.checkpoints.locations import models_home
from tf_pipeline.export.runtimes import TFLITE_QUANTIZE
from tf_pipeline.export.tflite.convert import convert_to_tflite
from tf_pipeline.export.tflite.runtime import TFLitePipeline
from tf_pipeline.runners.forward_cache import checkpoint_key, prune
from tf_pipeline.runners.graph import GraphPipeline

logger = logging.getLogger(__name__)


def tflite_pipeline(checkpoint: Checkpoint, *, runtime: str, max_length: int | None = None) -> TFLitePipeline:
    """A :class:`TFLitePipeline` of ``checkpoint`` (float32 for "tflite", int8 weights for "tflite-int8").

    Args:
        checkpoint: what :func:`~tf_pipeline.checkpoints.loading.load_checkpoint` returns (any task).
        runtime: "tflite" or "tflite-int8" (:data:`~tf_pipeline.export.runtimes.TFLITE_QUANTIZE`).
        max_length: truncate texts to this many tokens (default: the task's or the model's limit).

    Returns:
        The pipeline on the cached (or, for a new random head, a temporary) .tflite file.
    """
    pipe_length = max_length or default_max_length(checkpoint.tokenizer, checkpoint.config)
    length = min(pipe_length, checkpoint.task.max_length or pipe_length)
    name = f"{checkpoint_key(checkpoint)}-{length}-{TFLITE_QUANTIZE[runtime]}.tflite"
    path = models_home() / "cache" / "tflite" / name
    if path.is_file():
        os.utime(path)  # recently used: kept by prune()
        return TFLitePipeline(path)
    pipe = GraphPipeline(checkpoint, max_length=max_length)  # loads the model
    if checkpoint.new_weights:
        with tempfile.TemporaryDirectory() as folder:
            return TFLitePipeline(_convert(pipe, Path(folder) / path.name, runtime))
    _convert(pipe, path, runtime)
    prune(path.parent)
    return TFLitePipeline(path)


def _convert(pipe: GraphPipeline, path: Path, runtime: str) -> Path:
    logger.info("Converting %s to TFLite (%s) once (seconds to a minute); cached as %s", pipe.source, runtime, path)
    return convert_to_tflite(pipe, path, quantize=TFLITE_QUANTIZE[runtime])
