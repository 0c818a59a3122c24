"""The tasks tf_pipeline runs, by Hugging Face's task names: the registry.

A task (:class:`~tf_pipeline.tasks.base.Task`) says which TF auto class it loads, what its graph
returns, how an eager answer is post-processed and what its exports' signatures output; the runners
(the TF graph, a SavedModel, a .tflite file, Beam) run any of them. Adding a task is one module in
this package, one line in :data:`TASKS` and one test module (docs/architecture.md).

Names only, no TensorFlow import, so the command line can list the tasks cheaply.

Example:
    >>> task_name("sentiment-analysis")
    'text-classification'
    >>> task_class("feature-extraction").__name__
    'FeatureExtraction'
"""

from __future__ import annotations

import json
from importlib import import_module
from pathlib import Path

from tf_pipeline import errors

TASKS = {  # task name → module:class in this package
    "text-classification": "text_classification:TextClassification",
    "feature-extraction": "feature_extraction:FeatureExtraction",
    "sentence-embeddings": "sentence_embeddings:SentenceEmbeddings",
    "zero-shot-classification": "zero_shot_classification:ZeroShotClassification",
}
ALIASES = {"sentiment-analysis": "text-classification"}
NOT_YET = ("token-classification", "ner", "question-answering")  # HF tasks still to come
SENTENCE_TRANSFORMERS_FILE = "modules.json"  # a sentence-transformers model folder has it


def task_names() -> tuple[str, ...]:
    """Every name a task can be asked for: the tasks, then their aliases."""
    return (*TASKS, *ALIASES)


def task_name(name: str) -> str:
    """The task's own name for ``name`` (an alias resolved); a clear error for anything else.

    Example:
        >>> task_name("text-classification"), task_name("sentiment-analysis")
        ('text-classification', 'text-classification')
    """
    if not isinstance(name, str):
        raise errors.InvalidInputError(f"task must be a task name (a string), got {type(name).__name__}.")
    name = ALIASES.get(name, name)
    if name in TASKS:
        return name
    if name in NOT_YET:
        raise errors.InvalidInputError(
            f"tf_pipeline has no {name!r} task yet; the tasks it runs are: {', '.join(task_names())}.")
    raise errors.InvalidInputError(f"unknown task {name!r}; choose from {', '.join(task_names())}.")


def task_class(name: str):
    """The :class:`~tf_pipeline.tasks.base.Task` subclass for a task name or alias (imported on first use)."""
    module, _, attribute = TASKS[task_name(name)].partition(":")
    return getattr(import_module(f"{__name__}.{module}"), attribute)


def infer_task(config, folder: str | Path | None = None) -> str:
    """The task a checkpoint is for, from its folder and config, as a user would guess it.

    A sentence-transformers folder (``modules.json``) is for sentence embeddings; otherwise the
    config's ``architectures`` name the head: ``…ForSequenceClassification`` → text classification,
    a bare encoder (``BertModel``) → feature extraction; a config that names none is taken for
    text classification (tf_pipeline's first task). A head it does not run needs ``task=``.

    Example:
        >>> from transformers import BertConfig
        >>> infer_task(BertConfig(architectures=["BertForSequenceClassification"]))
        'text-classification'
        >>> infer_task(BertConfig(architectures=["BertModel"]))
        'feature-extraction'
    """
    if folder is not None and is_sentence_transformers_folder(folder):
        return "sentence-embeddings"
    architectures = list(getattr(config, "architectures", None) or [])
    if not architectures:
        return "text-classification"
    for architecture in architectures:
        if architecture.endswith("ForSequenceClassification"):
            return "text-classification"
        if architecture.endswith("Model") and "For" not in architecture:
            return "feature-extraction"
    raise errors.InvalidInputError(
        f"cannot tell which task this checkpoint is for (architectures: {', '.join(architectures)}); "
        f"name one ({', '.join(task_names())}).")


def is_sentence_transformers_folder(folder: str | Path) -> bool:
    """Whether ``folder`` is laid out by sentence-transformers (a ``modules.json`` listing its modules)."""
    path = Path(folder) / SENTENCE_TRANSFORMERS_FILE
    if not path.is_file():
        return False
    try:
        return isinstance(json.loads(path.read_text(encoding="utf-8")), list)
    except (OSError, ValueError):
        return False
