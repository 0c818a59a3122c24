"""The embedded default: the shipped MiniLM-L6 encoder fine-tuned on the shipped sentiment set.

Built on first use (seeded, with the default :class:`Recipe`; a few minutes on 2 cores), cached,
and reused afterwards. Its ``metrics.json`` records the build time and the accuracy on the
validation, held-out and independent evaluation splits.
The cache lives in ``$TF_PIPELINE_HOME`` if set, else in ``saved_models/`` of a source
checkout, else in ``~/.cache/tf_pipeline``.

Example:
    >>> default_model_dir()          # builds it the first time
    PosixPath('.../saved_models/default-sentiment')
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

NAME = "default-sentiment"
REPORTED_SPLITS = ("validation", "heldout", "evaluation")  # validation: from the last epoch's history


def models_home() -> Path:
    """Where tf_pipeline keeps the models it builds itself."""
    if os.environ.get("TF_PIPELINE_HOME"):
        return Path(os.environ["TF_PIPELINE_HOME"]).expanduser()
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "saved_models").is_dir():
        return checkout / "saved_models"
    return Path.home() / ".cache" / "tf_pipeline"


def default_model_dir() -> Path:
    """The cached default sentiment model's folder, fine-tuning it first if it is not there yet."""
    folder = models_home() / NAME
    if not (folder / "metrics.json").is_file():
        build_default_model(folder)
    return folder


def build_default_model(folder: Path) -> dict:
    """Fine-tune the encoder on the shipped train split with the default recipe; record the build
    time and the accuracy on each reported split in metrics.json."""
    import time

    from . import errors
    from .data import sentiment_set
    from .finetune import evaluate, finetune

    logger.warning("Building the default sentiment model in %s (first use only; a few minutes on 2 cores).", folder)
    start = time.perf_counter()
    try:
        result = finetune(sentiment_set("train"), folder, validation_data=sentiment_set("validation"))
    except errors.InvalidInputError:
        if (folder / "metrics.json").is_file():  # another process finished it first
            return json.loads((folder / "metrics.json").read_text())
        raise
    metrics = result.metrics()
    metrics["validation"] = {"accuracy": result.history[-1]["val_accuracy"], "total": result.validation_size}
    for split in REPORTED_SPLITS[1:]:
        metrics[split] = evaluate(result.pipeline, sentiment_set(split))
    metrics["build_seconds"] = round(time.perf_counter() - start, 1)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    logger.warning("Default model ready in %.0f s: accuracy %s.", metrics["build_seconds"],
                   ", ".join(f"{split} {100 * metrics[split]['accuracy']:.1f}%" for split in REPORTED_SPLITS))
    return metrics
