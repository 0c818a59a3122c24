"""Hub id or folder → tokenizer, config and the TF model a task needs, with no torch.

Reads PyTorch-format safetensors (one file, or shards with an index) through
``safetensors``' NumPy reader and transformers' PyTorch→TF weight mapping, which
sidesteps transformers 4.57's ``'builtins.safe_open' object is not iterable``
bug; TF checkpoints (``tf_model.h5``, TF-format safetensors) go through
``from_pretrained``.

Example:
    >>> checkpoint = load_checkpoint("path/to/checkpoint")  # doctest: +SKIP
    >>> checkpoint.config.id2label  # doctest: +SKIP
    {0: 'NEGATIVE', 1: 'POSITIVE'}
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Mapping, Sequence

from tf_pipeline import errors
from tf_pipeline.checkpoints.locations import resolve_model_dir
from tf_pipeline.checkpoints.mpnet_buckets import use_bucket_table
from tf_pipeline.tasks import infer_task, task_class, task_name
from tf_pipeline.tasks.sentence_embeddings import transformer_folder

logger = logging.getLogger(__name__)

SAFETENSORS = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
TF_WEIGHTS = ("tf_model.h5", "tf_model.h5.index.json")
TORCH_ONLY_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")


class Checkpoint:
    """What a checkpoint folder holds: tokenizer, config, where it came from, the task it is loaded
    for (:class:`~tf_pipeline.tasks.base.Task`, with the settings read from its files) and the TF model.

    With ``load_checkpoint(..., lazy=True)`` the model (the slow part: build, read weights) loads
    on first use of ``model``; ``new_weights`` then names the weights the folder did not have
    (a new classification head, say), empty when everything came from the checkpoint.

    Example:
        >>> checkpoint = load_checkpoint("path/to/checkpoint", lazy=True)      # doctest: +SKIP
        >>> checkpoint.model_loaded, checkpoint.model.config.num_labels, checkpoint.model_loaded   # doctest: +SKIP
        (False, 2, True)
    """

    def __init__(self, tokenizer, config, source: str, model=None, *, task=None, load_model=None,
                 new_weights: Sequence[str] = ()):
        self.tokenizer, self.config, self.source, self.task = tokenizer, config, source, task
        self._model, self._load_model = model, load_model
        self.new_weights = tuple(new_weights)

    @property
    def model(self):
        """The TF model, loaded now if it was not yet."""
        if self._model is None:
            self._model, self.new_weights = self._load_model()
        return self._model

    @property
    def model_loaded(self) -> bool:
        return self._model is not None


def load_config(folder: Path, *, num_labels: int | None = None, id2label=None):
    """Read ``config.json`` and apply label overrides.

    ``id2label`` may be a dict ``{id: name}`` or a list of names; ``num_labels``
    alone gives ``LABEL_0 … LABEL_{n-1}``.
    """
    from transformers import AutoConfig

    if not (folder / "config.json").is_file():
        raise errors.CheckpointNotFoundError(f"{folder} has no config.json; is it a model folder?")
    try:
        config = AutoConfig.from_pretrained(folder)
    except (ValueError, KeyError, OSError) as error:
        raise errors.BrokenCheckpointError(f"{folder}/config.json cannot be read: {error}") from error
    labels = _normalise_id2label(id2label, num_labels)
    if labels is not None:
        config.id2label = labels
        config.label2id = {name: index for index, name in labels.items()}
        config.num_labels = len(labels)
    elif num_labels is not None:
        if num_labels < 1:
            raise errors.InvalidInputError(f"num_labels must be at least 1, got {num_labels}.")
        if num_labels != config.num_labels:
            config.num_labels = num_labels
    return config


def _normalise_id2label(id2label, num_labels: int | None) -> dict[int, str] | None:
    if id2label is None:
        return None
    if isinstance(id2label, Mapping):
        labels = {int(index): str(name) for index, name in id2label.items()}
    elif isinstance(id2label, Sequence) and not isinstance(id2label, str):
        labels = {index: str(name) for index, name in enumerate(id2label)}
    else:
        raise errors.InvalidInputError("id2label must be a dict {id: name} or a list of names.")
    if sorted(labels) != list(range(len(labels))) or not labels:
        raise errors.InvalidInputError(f"id2label ids must be 0 … n-1, got {sorted(labels)}.")
    if num_labels is not None and num_labels != len(labels):
        raise errors.InvalidInputError(
            f"num_labels={num_labels} disagrees with id2label, which names {len(labels)} labels."
        )
    return labels


def load_tokenizer(folder: Path):
    """Load the folder's tokenizer with ``AutoTokenizer`` (fast where possible)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError, TypeError, AttributeError) as error:
        raise errors.TokenizerNotFoundError(
            f"{folder} has no usable tokenizer ({error}). Save one there with "
            "`tokenizer.save_pretrained(folder)`."
        ) from error
    if tokenizer is None or isinstance(tokenizer, bool):
        raise errors.TokenizerNotFoundError(f"{folder} has no tokenizer files.")
    return tokenizer


def tf_model_class(config, task: str = "text-classification"):
    """The transformers TF auto class that ``task`` loads, after checking it has one for ``config``'s model type.

    Example:
        >>> from transformers import BertConfig
        >>> tf_model_class(BertConfig(), "feature-extraction").__name__
        'TFAutoModel'
    """
    import transformers

    auto_class = getattr(transformers, task_class(task).model_class)
    mapping = auto_class._model_mapping
    if type(config) not in mapping:
        supported = sorted(mapping._model_mapping)
        raise errors.UnsupportedModelError(
            f"model_type '{config.model_type}' has no TensorFlow {auto_class.__name__} class in transformers "
            f"(needed for {task_name(task)}). Supported types: {', '.join(supported)}."
        )
    return auto_class


def load_tf_model(folder: Path, config, *, task: str = "text-classification"):
    """Build the TF model ``task`` needs for ``config`` and load the folder's weights into it, without torch.

    Example:
        >>> model = load_tf_model(folder, load_config(folder), task="feature-extraction")   # doctest: +SKIP
    """
    return _load_tf_model(folder, config, task)[0]


def _load_tf_model(folder: Path, config, task: str) -> tuple[object, tuple[str, ...]]:
    """The model and the names of its weights that the folder did not hold (newly initialised)."""
    model, missing = _read_tf_model(folder, config, task)
    if config.model_type == "mpnet":
        use_bucket_table(model)  # TFLite builtins cannot run HF's float64 bucket arithmetic
    return model, missing


def _read_tf_model(folder: Path, config, task: str) -> tuple[object, tuple[str, ...]]:
    auto_class = tf_model_class(config, task)
    if (folder / SAFETENSORS_INDEX).is_file() or _is_pytorch_safetensors(folder / SAFETENSORS):
        return _load_pytorch_safetensors(folder, config, auto_class)
    if (folder / SAFETENSORS).is_file() or any((folder / name).is_file() for name in TF_WEIGHTS):
        return _load_tf_weights(folder, config, auto_class)
    if any((folder / name).is_file() for name in TORCH_ONLY_WEIGHTS):
        raise errors.WeightsNotFoundError(
            f"{folder} only has pytorch_model.bin weights, which need torch to read. Convert them to "
            "safetensors where torch is installed: `model.save_pretrained(folder, safe_serialization=True)`."
        )
    raise errors.WeightsNotFoundError(
        f"{folder} has no weights: expected {SAFETENSORS}, {SAFETENSORS_INDEX} or tf_model.h5."
    )


def _is_pytorch_safetensors(path: Path) -> bool:
    if not path.is_file():
        return False
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="np") as archive:
            return (archive.metadata() or {}).get("format", "pt") == "pt"
    except (SafetensorError, OSError) as error:
        raise errors.BrokenCheckpointError(f"{path} is not a readable safetensors file: {error}") from error


def _safetensors_files(folder: Path) -> list[Path]:
    index_path = folder / SAFETENSORS_INDEX
    if not index_path.is_file():
        return [folder / SAFETENSORS]
    try:
        weight_map = json.loads(index_path.read_text())["weight_map"]
    except (ValueError, KeyError, TypeError) as error:
        raise errors.BrokenCheckpointError(f"{index_path} is not a valid shard index: {error}") from error
    files = [folder / name for name in sorted(set(weight_map.values()))]
    missing = [str(path.name) for path in files if not path.is_file()]
    if missing:
        raise errors.BrokenCheckpointError(f"{index_path} lists shards that are missing: {', '.join(missing)}.")
    return files


def read_safetensors(files: Sequence[Path]) -> dict:
    """All tensors of one or several safetensors files, as NumPy arrays keyed by name."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    state_dict = {}
    for path in files:
        try:
            state_dict.update(load_file(path))
        except (SafetensorError, OSError, ValueError, TypeError) as error:
            raise errors.BrokenCheckpointError(f"{path} cannot be read: {error}") from error
    return state_dict


def _load_pytorch_safetensors(folder: Path, config, auto_class):
    from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model

    state_dict = read_safetensors(_safetensors_files(folder))
    model = auto_class.from_config(config)
    model(model.dummy_inputs, training=False)  # build the weights
    prefix = model.base_model_prefix
    body_prefix = "" if any(key.startswith(prefix + ".") for key in state_dict) else prefix + "."
    mismatched = _drop_mismatched(state_dict, _pytorch_shapes(model, body_prefix))
    try:
        model, info = load_pytorch_state_dict_in_tf2_model(  # tf_inputs={}: already built above
            model, state_dict, tf_inputs={}, allow_missing_keys=True, output_loading_info=True,
            skip_logger_warnings=True,
        )
    except (ValueError, AttributeError, AssertionError) as error:
        raise errors.BrokenCheckpointError(f"The weights in {folder} do not fit the config: {error}") from error
    body_names = set(_pytorch_shapes(getattr(model, prefix, None), body_prefix))
    not_loaded = set(info["missing_keys"]) | mismatched
    _check_loaded(folder, model, body_names, not_loaded)
    return model, tuple(sorted(not_loaded))


def _pytorch_shapes(layer, start_prefix_to_remove: str) -> dict[str, int]:
    """PyTorch weight name → number of elements, for every weight of a TF layer."""
    from transformers.modeling_tf_pytorch_utils import convert_tf_weight_name_to_pt_weight_name

    if layer is None:
        return {}
    names = {}
    for weight in layer.weights:
        name, _ = convert_tf_weight_name_to_pt_weight_name(
            weight.name, start_prefix_to_remove=start_prefix_to_remove, tf_weight_shape=weight.shape
        )
        names[name] = int(weight.shape.num_elements())
    return names


def _drop_mismatched(state_dict: dict, sizes: dict[str, int]) -> set[str]:
    """Remove (and return) the checkpoint tensors whose size differs from the model's, e.g. a head
    for another number of labels; they are then initialised anew like missing ones."""
    mismatched = {name for name, size in sizes.items() if name in state_dict and state_dict[name].size != size}
    for name in mismatched:
        del state_dict[name]
    return mismatched


def _check_loaded(folder: Path, model, body_names: set[str], not_loaded: set[str]) -> None:
    """Fail if the encoder did not load; warn about anything new, above all a new head."""
    body_missing = sorted(not_loaded & body_names)
    head_missing = sorted(not_loaded - body_names)
    if body_names and len(body_missing) == len(body_names):
        raise errors.BrokenCheckpointError(
            f"None of the encoder weights in {folder} fit a {model.config.model_type} model; "
            "the weights belong to another architecture or the config is wrong."
        )
    if body_missing:
        logger.warning("%d encoder weights were not in %s and are newly initialised: %s",
                       len(body_missing), folder, ", ".join(body_missing[:5]))
    if head_missing:
        _warn_untrained_head(folder, head_missing)


def _warn_untrained_head(folder: Path, names: Sequence[str]) -> None:
    message = (
        f"{folder} has no trained classification head ({', '.join(names[:4])} newly initialised): "
        "its labels and scores mean nothing until you fine-tune it."
    )
    warnings.warn(message, errors.UntrainedHeadWarning, stacklevel=3)


def _load_tf_weights(folder: Path, config, auto_class):
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its own "all layers were used" report; we report below
    try:
        model, info = auto_class.from_pretrained(
            folder, config=config, output_loading_info=True, ignore_mismatched_sizes=True
        )
    except (OSError, ValueError, KeyError) as error:
        raise errors.BrokenCheckpointError(f"The TF weights in {folder} cannot be loaded: {error}") from error
    finally:
        hf_logging.set_verbosity(verbosity)
    prefix = model.base_model_prefix
    not_loaded = set(info["missing_keys"]) | {name for name, *_ in info["mismatched_keys"]}
    if any(name == prefix or name.startswith(prefix + "/") for name in not_loaded):
        raise errors.BrokenCheckpointError(f"The encoder weights in {folder} do not fit the config.")
    trainable_new = [name for name in not_loaded if model.get_layer(name.split("/")[0]).weights]
    if trainable_new:
        _warn_untrained_head(folder, sorted(trainable_new))
    return model, tuple(sorted(trainable_new))


def default_max_length(tokenizer, config) -> int:
    """The longest input the model takes: the tokenizer's limit, capped by the position table."""
    positions = getattr(config, "max_position_embeddings", None) or 512
    if config.model_type in {"roberta", "xlm-roberta", "camembert", "longformer", "mpnet"}:
        positions -= (config.pad_token_id or 0) + 1
    limit = tokenizer.model_max_length
    return positions if not limit or limit > 1_000_000 else min(limit, positions)


def load_checkpoint(
    model: str | os.PathLike | None = None,
    *,
    task: str | None = None,
    num_labels: int | None = None,
    id2label=None,
    lazy: bool = False,
) -> Checkpoint:
    """Load tokenizer, config and the TF model ``task`` needs from a folder, a hub id, or the built default (``None``).

    Loading never trains: ``None`` needs the default model built first
    (``tf_pipeline.load_pipeline()`` or ``tf-pipeline build-default`` do that).

    Args:
        model: a checkpoint folder (a sentence-transformers folder too), a hub id, or None for the
            built default sentiment model.
        task: a task name (``tf_pipeline.tasks.task_names()``); default: the one the checkpoint is
            for (:func:`~tf_pipeline.tasks.infer_task`); text classification for the default model or
            when ``num_labels`` or ``id2label`` is given.
        num_labels, id2label: label overrides for text classification.
        lazy: leave the model (and errors in its weights) to the first use of ``checkpoint.model``.

    Returns:
        The :class:`Checkpoint`, its ``task`` set from the checkpoint's config and files.

    Raises:
        CheckpointNotFoundError, WeightsNotFoundError, BrokenCheckpointError, UnsupportedModelError,
        TokenizerNotFoundError, HubUnreachableError: what is wrong with the checkpoint, and what to do.
        InvalidInputError: an unknown task, or one that cannot be inferred.

    Example:
        >>> checkpoint = load_checkpoint("path/to/encoder", task="feature-extraction")   # doctest: +SKIP
        >>> checkpoint.task.name, type(checkpoint.model).__name__                       # doctest: +SKIP
        ('feature-extraction', 'TFBertModel')
    """
    folder = resolve_model_dir(model)
    model_folder = transformer_folder(folder)
    config = load_config(model_folder, num_labels=num_labels, id2label=id2label)
    if task is not None:
        name = task_name(task)
    elif model is None or num_labels is not None or id2label is not None:  # labels asked for: a classifier
        name = "text-classification"
    else:
        name = infer_task(config, folder)
    tf_model_class(config, name)
    tokenizer = load_tokenizer(model_folder)
    checkpoint = Checkpoint(tokenizer, config, str(folder), task=task_class(name).from_checkpoint(config, folder),
                            load_model=lambda: _load_tf_model(model_folder, config, name))
    if not lazy:
        checkpoint.model  # noqa: B018  (load now: errors surface here)
    return checkpoint
