"""The embedded default: the shipped MiniLM-L6 encoder fine-tuned on the shipped sentiment set.

Built by :func:`ensure_default_model` (which ``tf_pipeline.load_pipeline()`` and
``tf-pipeline build-default`` call; seeded, with the default :class:`Recipe`; about 5 minutes on
2 cores), cached, and reused afterwards. Loading a checkpoint never builds it.
Its ``metrics.json`` records the build time and the accuracy on the
validation, held-out and independent evaluation splits.
Where it is cached: :func:`tf_pipeline.checkpoints.locations.models_home`.

Example:
    >>> ensure_default_model()       # builds it the first time
    PosixPath('.../saved_models/default-sentiment')
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from tf_pipeline.checkpoints.locations import BUILT_MARKER, default_model_dir

logger = logging.getLogger(__name__)

REPORTED_SPLITS = ("validation", "heldout", "evaluation")  # validation: from the last epoch's history


def ensure_default_model() -> Path:
    """The default model's folder, built first if it is not there yet (the one step that trains).

    Example:
        >>> ensure_default_model()
        PosixPath('.../saved_models/default-sentiment')
    """
    folder = default_model_dir()
    if not (folder / BUILT_MARKER).is_file():
        build_default_model(folder)
    return folder


def build_default_model(folder: Path, *, overwrite: bool = False) -> dict:
    """Fine-tune the encoder on the shipped train split with the default recipe; record the build
    time and the accuracy on each reported split in metrics.json."""
    import time

    from tf_pipeline import errors
    from tf_pipeline.training.data import sentiment_set
    from tf_pipeline.training.evaluate import evaluate
    from tf_pipeline.training.finetune import finetune

    logger.warning("Building the default sentiment model in %s (first use only; a few minutes on 2 cores).", folder)
    start = time.perf_counter()
    try:
        result = finetune(sentiment_set("train"), folder, validation_data=sentiment_set("validation"),
                          overwrite=overwrite)
    except errors.InvalidInputError:
        if (folder / BUILT_MARKER).is_file():  # another process finished it first
            return json.loads((folder / BUILT_MARKER).read_text())
        raise
    metrics = result.metrics()
    metrics["validation"] = {"accuracy": result.history[-1]["val_accuracy"], "total": result.validation_size}
    for split in REPORTED_SPLITS[1:]:
        metrics[split] = evaluate(result.pipeline, sentiment_set(split))
    metrics["build_seconds"] = round(time.perf_counter() - start, 1)
    (folder / BUILT_MARKER).write_text(json.dumps(metrics, indent=2) + "\n")
    logger.warning("Default model ready in %.0f s: accuracy %s.", metrics["build_seconds"],
                   ", ".join(f"{split} {100 * metrics[split]['accuracy']:.1f}%" for split in REPORTED_SPLITS))
    return metrics
