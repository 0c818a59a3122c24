"""The embedded default models: a shipped encoder fine-tuned on the shipped sentiment set.

- the default: all-mpnet-base-v2 (12 layers, hidden 768, 110M parameters) with the standard
  ``TFMPNetForSequenceClassification`` head, its top layer and head trained over the lower
  layers' outputs computed once (:data:`MPNET_RECIPE`, chosen on the validation split);
- the small one (``"small"``): all-MiniLM-L6-v2 (6 layers, hidden 384, 22M parameters), fully
  fine-tuned with the :class:`Recipe` defaults: quicker to build and load, for devices and quick starts.

Built by :func:`ensure_default_model` (which ``tf_pipeline.load_pipeline()`` and
``tf-pipeline build-default [--small]`` call; seeded), cached, and reused afterwards. Loading a
checkpoint never builds it. Its ``metrics.json`` records the build time and the accuracy on the
validation, held-out and the two independent evaluation splits (evaluation, critics).
Where they are cached: :func:`tf_pipeline.checkpoints.locations.models_home`.

Example:
    >>> ensure_default_model()       # builds it the first time  # doctest: +SKIP
    PosixPath('.../saved_models/default-sentiment')
    >>> ensure_default_model(small=True)
    PosixPath('.../saved_models/small-sentiment')
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tf_pipeline.checkpoints.locations import BUILT_MARKER, default_encoder_dir, default_model_dir
from tf_pipeline.checkpoints.mpnet_encoder import mpnet_encoder_dir
from tf_pipeline.training.recipe import Recipe

logger = logging.getLogger(__name__)

REPORTED_SPLITS = ("validation", "heldout", "evaluation", "critics")  # validation: from the last epoch's history
MPNET_RECIPE = Recipe(top_layers=1, epochs=3, learning_rate=2e-4)  # scripts/compare_mpnet_recipes.py


@dataclass(frozen=True)
class DefaultModel:
    """One embedded default: which shipped encoder it starts from and how it is fine-tuned."""

    encoder: Callable[[], Path]
    recipe: Recipe
    about: str


DEFAULT_MODELS = {
    False: DefaultModel(mpnet_encoder_dir, MPNET_RECIPE, "all-mpnet-base-v2, top layer and head trained"),
    True: DefaultModel(default_encoder_dir, Recipe(), "all-MiniLM-L6-v2, fully fine-tuned"),
}


def ensure_default_model(small: bool = False) -> Path:
    """The default model's folder (or the small one's), built first if it is not there yet (the one step that trains).

    Args:
        small: the small default (MiniLM-L6) instead of the default (MPNet).

    Returns:
        The checkpoint folder.

    Example:
        >>> ensure_default_model(small=True)
        PosixPath('.../saved_models/small-sentiment')
    """
    folder = default_model_dir(small)
    if not (folder / BUILT_MARKER).is_file():
        build_default_model(folder, small=small)
    return folder


def build_default_model(folder: Path, *, small: bool = False, overwrite: bool = False) -> dict:
    """Fine-tune the encoder on the shipped train split with its recipe; record the build time and
    the accuracy on each reported split in metrics.json.

    Args:
        folder: where the checkpoint goes.
        small: build the small default (MiniLM-L6) instead of the default (MPNet).
        overwrite: replace a model already in ``folder``.

    Returns:
        The metrics written to ``metrics.json``.
    """
    import time

    from tf_pipeline import errors
    from tf_pipeline.training.data import sentiment_set
    from tf_pipeline.training.evaluate import evaluate
    from tf_pipeline.training.finetune import finetune

    spec = DEFAULT_MODELS[small]
    logger.warning("Building the %sdefault sentiment model (%s) in %s (first use only; minutes on 2 cores).",
                   "small " if small else "", spec.about, folder)
    start = time.perf_counter()
    try:
        result = finetune(sentiment_set("train"), folder, model=spec.encoder(), recipe=spec.recipe,
                          validation_data=sentiment_set("validation"), overwrite=overwrite)
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
