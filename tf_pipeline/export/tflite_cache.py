"""The fastest runtime one argument away: a checkpoint converted to .tflite on first use and cached,
so ``load_pipeline(model, runtime="tflite-int8")`` answers like the TF pipeline at TFLite's speed.

Cached under ``<models home>/cache/tflite/`` by the checkpoint's key (its files, config, labels),
the length limit and the quantization; a checkpoint with a new, random head is converted every time
instead (it would freeze one random head).

Example:
    >>> pipe = tflite_pipeline(load_checkpoint("path/to/checkpoint", lazy=True), runtime="tflite-int8")
    >>> pipe(["I love it"])
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from tf_pipeline.checkpoints.loading import Checkpoint, default_max_length
from tf_pipeline.checkpoints.locations import models_home
from tf_pipeline.export.runtimes import TFLITE_QUANTIZE
from tf_pipeline.export.tflite_convert import convert_to_tflite
from tf_pipeline.export.tflite_runtime import TFLitePipeline
from tf_pipeline.pipeline.forward_cache import checkpoint_key, prune
from tf_pipeline.pipeline.text_classification import TextClassificationPipeline

logger = logging.getLogger(__name__)
CONVERSION = 5  # raised when conversion changes what a file holds (2: int8 tables per column; 3: dense
# layers as matmul; 4: column scales as a MUL; 5: the last layer for the first token only); old files go unused


def tflite_pipeline(checkpoint: Checkpoint, *, runtime: str, max_length: int | None = None) -> TFLitePipeline:
    """A :class:`TFLitePipeline` of ``checkpoint`` (float32 for "tflite", int8 weights for "tflite-int8")."""
    length = max_length or default_max_length(checkpoint.tokenizer, checkpoint.config)
    name = f"{checkpoint_key(checkpoint)}-c{CONVERSION}-{length}-{TFLITE_QUANTIZE[runtime]}.tflite"
    path = models_home() / "cache" / "tflite" / name
    if path.is_file():
        os.utime(path)  # recently used: kept by prune()
        return TFLitePipeline(path)
    pipe = TextClassificationPipeline(checkpoint, max_length=max_length)  # loads the model
    if checkpoint.new_weights:
        with tempfile.TemporaryDirectory() as folder:
            return TFLitePipeline(_convert(pipe, Path(folder) / path.name, runtime))
    _convert(pipe, path, runtime)
    prune(path.parent)
    return TFLitePipeline(path)


def _convert(pipe: TextClassificationPipeline, path: Path, runtime: str) -> Path:
    logger.info("Converting %s to TFLite (%s) once (seconds to a minute); cached as %s", pipe.source, runtime, path)
    return convert_to_tflite(pipe, path, quantize=TFLITE_QUANTIZE[runtime])
