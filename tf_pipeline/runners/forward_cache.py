"""A checkpoint's compiled forward, cached on disk: a SavedModel of ids → the task's outputs next to the
models tf_pipeline keeps, reloaded in a new process instead of building the Keras model and tracing again.

The cache key covers what the answer depends on: the checkpoint's files (name, size, modification
time), its config (labels included), the task and its settings, the TensorFlow version and the
graph version (:data:`~tf_pipeline.runners.forward.GRAPH_VERSION`). A checkpoint
that is missing weights (a new, random head) is never cached. The cold start this saves is
measured in docs/python.md.

Example:
    >>> folder = cache_folder(checkpoint)  # doctest: +SKIP
    >>> cached = load_forward(folder)                    # None on a miss  # doctest: +SKIP
    >>> cached or save_forward(folder, forward, model.weights, input_names)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import tensorflow as tf

from tf_pipeline.checkpoints.loading import Checkpoint
from tf_pipeline.checkpoints.locations import models_home
from tf_pipeline.runners.forward import GRAPH_VERSION

logger = logging.getLogger(__name__)

MANIFEST = "forward.json"
DISABLE_VARIABLE = "TF_PIPELINE_NO_FORWARD_CACHE"  # set to 1 to neither read nor write the cache
KEEP = 8  # cached forwards kept, the most recently used


def cache_root() -> Path:
    """Where cached forwards live: ``<models home>/cache/forward`` (see ``models_home``)."""
    return models_home() / "cache" / "forward"


def enabled() -> bool:
    return os.environ.get(DISABLE_VARIABLE, "") in ("", "0")


def checkpoint_key(checkpoint: Checkpoint) -> str:
    """A name for this checkpoint as loaded: its folder, files (name, size, modification time), config
    and labels, the task and its settings, the TensorFlow and graph versions. Any change gives a new key."""
    source = Path(checkpoint.source)
    files = sorted((str(path.relative_to(source)), path.stat().st_size, path.stat().st_mtime_ns)
                   for path in source.rglob("*") if path.is_file())
    identity = json.dumps([GRAPH_VERSION, tf.__version__, str(source.resolve()), files,
                           checkpoint.config.to_json_string(use_diff=False), checkpoint.task.name,
                           checkpoint.task.settings()], sort_keys=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:24]


def cache_folder(checkpoint: Checkpoint) -> Path:
    """The cache folder of this checkpoint's forward."""
    return cache_root() / checkpoint_key(checkpoint)


def load_forward(folder: Path) -> tuple[Callable, tuple[str, ...]] | None:
    """The cached forward and its input names, or None if there is none (or it is unreadable)."""
    if not (folder / MANIFEST).is_file():
        return None
    try:
        input_names = tuple(json.loads((folder / MANIFEST).read_text())["input_names"])
        module = tf.saved_model.load(str(folder))
    except (OSError, ValueError, KeyError, tf.errors.OpError) as error:
        logger.warning("Ignoring the unreadable forward cache %s (%s); it will be rebuilt.", folder, error)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    os.utime(folder / MANIFEST)  # recently used: kept by prune()
    forward = module.forward
    forward.module = module  # keep the variables alive with the function
    return forward, input_names


def save_forward(folder: Path, forward, weights: Sequence[tf.Variable], input_names: Sequence[str]) -> None:
    """Write ``forward`` (a ``tf.function`` with an input signature) and the weights it reads.

    Atomic: written beside ``folder`` and renamed; a folder another process wrote first is kept.
    A cache that cannot be written (read-only disk) only logs a warning.
    """
    module = tf.Module()
    module.weights = list(weights)
    module.forward = forward
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    except OSError as error:
        logger.warning("Cannot write the forward cache under %s (%s); loading stays slow.", folder.parent, error)
        return
    try:
        tf.saved_model.save(module, str(staging))
        (staging / MANIFEST).write_text(json.dumps({"graph_version": GRAPH_VERSION, "input_names": list(input_names)}))
        staging.rename(folder)
    except OSError as error:
        if not (folder / MANIFEST).is_file():
            logger.warning("Cannot write the forward cache %s (%s).", folder, error)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    prune(folder.parent)


def prune(root: Path, keep: int = KEEP) -> None:
    """Delete all but the ``keep`` most recently used entries under ``root``: cached forwards
    (folders, used = their manifest's time) or files (a cached .tflite)."""
    def used(path: Path) -> int:
        return (path / MANIFEST if path.is_dir() else path).stat().st_mtime_ns

    entries = [path for path in root.iterdir() if not path.name.startswith(".")
               and (path.is_file() or (path / MANIFEST).is_file())]
    for stale in sorted(entries, key=used, reverse=True)[keep:]:
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
