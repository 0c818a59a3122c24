"""The embedded default: the shipped MiniLM-L6 encoder fine-tuned on the shipped sentiment set.

Built on first use (seeded, about two minutes on 2 cores), cached, and reused afterwards.
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
SETTINGS = dict(epochs=8, batch_size=32, learning_rate=5e-5, max_length=128, validation_split=0.1, seed=0, patience=2)


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
    """Fine-tune the encoder on the shipped training split; record held-out accuracy in metrics.json."""
    from . import errors
    from .data import sentiment_set
    from .finetune import evaluate, finetune

    logger.warning("Building the default sentiment model in %s (first use only; about two minutes on 2 cores).", folder)
    try:
        result = finetune(sentiment_set("train"), folder, **SETTINGS)
    except errors.InvalidInputError:
        if (folder / "metrics.json").is_file():  # another process finished it first
            return json.loads((folder / "metrics.json").read_text())
        raise
    metrics = result.metrics()
    metrics["heldout"] = evaluate(result.pipeline, sentiment_set("heldout"))
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    logger.warning("Default model ready: held-out accuracy %.1f%%.", 100 * metrics["heldout"]["accuracy"])
    return metrics
