"""Sentence embeddings: the encoder's token vectors pooled into one vector per text, as
sentence-transformers' ``SentenceTransformer(folder).encode(texts)`` answers.

The pooling (``cls``, ``max``, ``mean``, ``mean_sqrt_len_tokens``, ``weightedmean``,
``lasttoken``; several are concatenated in that order) and a ``Normalize`` module come from the
folder's ``1_Pooling/config.json`` and ``modules.json``; the length limit from
``sentence_bert_config.json`` (``max_seq_length``). A folder without ``modules.json`` gets mean
pooling, as sentence-transformers gives it. The pooling and the normalisation run in the graph, so
exports answer embeddings too. A call takes ``encode``'s arguments: ``batch_size``,
``normalize_embeddings``, ``convert_to_numpy``, ``convert_to_tensor``, ``truncate_dim``,
``show_progress_bar``; one text answers a vector ``[dim]``, a list an array ``[n, dim]``.

Example:
    >>> task = SentenceEmbeddings(pooling=("mean",), normalize=False, dimension=2, max_seq_length=None)
    >>> task.collect(task.postprocess({"embedding": np.array([[3.0, 4.0]], np.float32)}, normalize_embeddings=True),
    ...              inputs=["a text"], call_kwargs={}, as_tensor=False, as_array=True)
    array([[0.6, 0.8]], dtype=float32)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tf_pipeline import errors
from tf_pipeline.tasks import SENTENCE_TRANSFORMERS_FILE
from tf_pipeline.tasks.base import CallOptions, Task, batch_size_option, is_batch, refuse_unknown
from tf_pipeline.tasks.feature_extraction import last_hidden_state

logger = logging.getLogger(__name__)

POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")  # concatenation order
LEGACY_POOLING_KEYS = {  # 1_Pooling/config.json as older sentence-transformers write it
    "pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max", "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}
MODULE_TYPES = {"Transformer", "Pooling", "Normalize"}  # the sentence-transformers modules run here
NORM_EPSILON = 1e-12  # as torch.nn.functional.normalize
MEAN_EPSILON = 1e-9  # as sentence-transformers' Pooling clamps the token count


def st_modules(folder: str | Path) -> list[dict]:
    """The modules a sentence-transformers folder lists (``modules.json``); [] for a plain checkpoint."""
    path = Path(folder) / SENTENCE_TRANSFORMERS_FILE
    if not path.is_file():
        return []
    try:
        modules = json.loads(path.read_text(encoding="utf-8"))
        return [{"type": str(item["type"]).rsplit(".", 1)[-1], "path": str(item.get("path", ""))} for item in modules]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise errors.BrokenCheckpointError(f"{path} is not a sentence-transformers module list: {error}") from error


def transformer_folder(folder: str | Path) -> Path:
    """Where the HF model of a sentence-transformers folder lives (its ``Transformer`` module's path);
    ``folder`` itself for a plain checkpoint or the usual layout.

    Example:
        >>> transformer_folder("/models/plain-bert")
        PosixPath('/models/plain-bert')
    """
    for module in st_modules(folder):
        if module["type"] == "Transformer":
            return Path(folder) / module["path"]
    return Path(folder)


def pooling_modes(settings: dict) -> tuple[str, ...]:
    """The pooling modes a ``1_Pooling/config.json`` turns on, in concatenation order (mean if none).

    Example:
        >>> pooling_modes({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": True})
        ('cls', 'mean')
        >>> pooling_modes({"pooling_mode": "max"})
        ('max',)
    """
    if "pooling_mode" in settings:
        given = settings["pooling_mode"]
        modes = (given,) if isinstance(given, str) else tuple(given)
    else:
        modes = tuple(mode for key, mode in LEGACY_POOLING_KEYS.items() if settings.get(key))
    unknown = [mode for mode in modes if mode not in POOLING_MODES]
    if unknown:
        raise errors.UnsupportedModelError(f"pooling modes {unknown} are not among {', '.join(POOLING_MODES)}.")
    return modes or ("mean",)


def pool(hidden, mask, modes: tuple[str, ...]):
    """In the graph: ``[batch, length, hidden]`` token vectors → ``[batch, hidden × len(modes)]``, as
    sentence-transformers' ``Pooling`` computes them (right padding)."""
    import tensorflow as tf

    weights = tf.expand_dims(tf.cast(mask, hidden.dtype), -1)  # expand_dims: TFLite builtins have no new-axis slice
    count = tf.maximum(tf.reduce_sum(weights, axis=1), MEAN_EPSILON)
    vectors = []
    for mode in modes:
        if mode == "cls":
            vectors.append(hidden[:, 0])
        elif mode == "max":
            vectors.append(tf.reduce_max(tf.where(weights > 0, hidden, float("-inf")), axis=1))
        elif mode == "mean":
            vectors.append(tf.reduce_sum(hidden * weights, axis=1) / count)
        elif mode == "mean_sqrt_len_tokens":
            vectors.append(tf.reduce_sum(hidden * weights, axis=1) / tf.sqrt(count))
        elif mode == "weightedmean":
            positions = tf.reshape(tf.cast(tf.range(1, tf.shape(hidden)[1] + 1), hidden.dtype), [1, -1, 1])
            weighted = weights * positions
            vectors.append(tf.reduce_sum(hidden * weighted, axis=1)
                           / tf.maximum(tf.reduce_sum(weighted, axis=1), MEAN_EPSILON))
        else:  # lasttoken: the last real token (the last position when a row has none)
            last = tf.reduce_max(tf.where(mask > 0, tf.expand_dims(tf.range(tf.shape(mask)[1]), 0), -1), axis=1)
            last = tf.where(last >= 0, last, tf.shape(mask)[1] - 1)
            vectors.append(tf.gather(hidden * weights, last, axis=1, batch_dims=1))
    return vectors[0] if len(vectors) == 1 else tf.concat(vectors, axis=-1)


def l2_normalize(vectors):
    """In the graph: each row divided by its L2 norm (at least :data:`NORM_EPSILON`), as torch's ``normalize``."""
    import tensorflow as tf

    return vectors / tf.maximum(tf.norm(vectors, axis=-1, keepdims=True), NORM_EPSILON)


def numpy_l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Eagerly, the same as :func:`l2_normalize`."""
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), NORM_EPSILON)


@dataclass(frozen=True)
class SentenceEmbeddings(Task):
    """``TFAutoModel`` → token vectors → pooling (→ L2 normalisation) → one vector per text.

    Args:
        pooling: the pooling modes, in :data:`POOLING_MODES` order.
        normalize: the folder's ``modules.json`` ends in a ``Normalize`` module.
        dimension: the token vectors' size (the embedding has ``dimension × len(pooling)``).
        max_seq_length: sentence-transformers' length limit (None: the model's).
    """

    pooling: tuple[str, ...]
    normalize: bool
    dimension: int
    max_seq_length: int | None = None

    name = "sentence-embeddings"
    model_class = "TFAutoModel"
    record_fields = {"embedding": "vector"}

    @classmethod
    def from_checkpoint(cls, config, folder: str | Path | None = None) -> "SentenceEmbeddings":
        """Pooling and normalisation from the sentence-transformers files in ``folder`` (mean pooling without)."""
        modules = st_modules(folder) if folder is not None else []
        unsupported = sorted({module["type"] for module in modules} - MODULE_TYPES)
        if unsupported:
            raise errors.UnsupportedModelError(
                f"{folder} has sentence-transformers modules {', '.join(unsupported)}, which tf_pipeline does not run "
                f"(it runs {', '.join(sorted(MODULE_TYPES))}).")
        if not modules:
            logger.info("%s has no %s: mean pooling, as sentence-transformers gives a plain checkpoint.",
                        folder, SENTENCE_TRANSFORMERS_FILE)
        pooling = ("mean",)
        for module in modules:
            if module["type"] == "Pooling":
                pooling = pooling_modes(_read_json(Path(folder) / module["path"] / "config.json"))
        transformer = transformer_folder(folder) if folder is not None else None
        settings = _read_json(transformer / "sentence_bert_config.json") if transformer is not None else {}
        if settings.get("do_lower_case"):
            raise errors.UnsupportedModelError(
                f"{transformer}/sentence_bert_config.json asks for do_lower_case, which tf_pipeline does not apply; "
                "use a tokenizer that lowercases itself.")
        return cls(pooling=pooling, normalize=any(module["type"] == "Normalize" for module in modules),
                   dimension=int(config.hidden_size), max_seq_length=settings.get("max_seq_length"))

    @property
    def max_length(self) -> int | None:
        return self.max_seq_length

    @property
    def embedding_size(self) -> int:
        return self.dimension * len(self.pooling)

    # in the graph

    def output_specs(self) -> dict:
        import tensorflow as tf

        return {"embedding": tf.TensorSpec([None, self.embedding_size], tf.float32)}

    def model_outputs(self, model, inputs) -> dict:
        import tensorflow as tf

        hidden = last_hidden_state(model, inputs)
        mask = inputs.get("attention_mask")
        if mask is None:
            mask = tf.ones(tf.shape(hidden)[:2], tf.int32)
        embedding = pool(hidden, mask, self.pooling)
        return {"embedding": l2_normalize(embedding) if self.normalize else embedding}

    def graph_answers(self, outputs, valid=None) -> dict:
        """``embedding`` per row; invalid rows zero, ``valid`` says which."""
        import tensorflow as tf

        if valid is None:
            return dict(outputs)
        return {"embedding": tf.where(tf.expand_dims(valid, -1), outputs["embedding"], 0.0), "valid": valid}

    # eagerly

    def options(self, *, batch_size: Any = 32, normalize_embeddings: Any = False, convert_to_numpy: Any = True,
                convert_to_tensor: Any = False, truncate_dim: Any = None, show_progress_bar: Any = None,
                output_value: Any = "sentence_embedding", precision: Any = "float32", **unknown) -> CallOptions:
        """``encode``'s arguments; ``output_value`` and ``precision`` only as their defaults."""
        refuse_unknown(self.name, unknown, ("batch_size", "normalize_embeddings", "convert_to_numpy",
                                            "convert_to_tensor", "truncate_dim", "show_progress_bar",
                                            "output_value", "precision"))
        if output_value != "sentence_embedding":
            raise errors.InvalidInputError(
                f"output_value={output_value!r}: the sentence-embeddings task answers sentence embeddings; "
                "for token vectors use the feature-extraction task.")
        if precision != "float32":
            raise errors.InvalidInputError(f"precision={precision!r}: only float32 embeddings are made here.")
        if truncate_dim is not None and not (isinstance(truncate_dim, int) and not isinstance(truncate_dim, bool)
                                             and 1 <= truncate_dim):
            raise errors.InvalidInputError(f"truncate_dim must be a positive integer or None, got {truncate_dim!r}.")
        return CallOptions(postprocess={"normalize_embeddings": bool(normalize_embeddings), "truncate_dim": truncate_dim},
                           answer={"as_tensor": bool(convert_to_tensor), "as_array": bool(convert_to_numpy)},
                           batch_size=batch_size_option(batch_size), progress=bool(show_progress_bar))

    def postprocess(self, outputs, *, normalize_embeddings: bool = False, truncate_dim: int | None = None) -> list:
        """Per row, the embedding (cut to ``truncate_dim``, then normalised if asked), float32."""
        vectors = np.asarray(outputs["embedding"], np.float32)[:, :truncate_dim]
        if normalize_embeddings:
            vectors = numpy_l2_normalize(vectors).astype(np.float32)
        return list(vectors)

    def records(self, outputs) -> list[dict]:
        """Per row ``{"embedding": [...]}``."""
        return [{"embedding": row} for row in np.asarray(outputs["embedding"], np.float32).tolist()]

    def collect(self, answers: list, inputs: Any, call_kwargs: dict, *, as_tensor: bool, as_array: bool) -> Any:
        """``encode``'s shapes: one text → ``[dim]``, a list → ``[n, dim]`` (NumPy; a ``tf.Tensor`` with
        ``convert_to_tensor``; a list of vectors with ``convert_to_numpy=False``)."""
        single = not is_batch(inputs)
        if as_tensor:
            import tensorflow as tf

            stacked = np.stack(answers) if answers else np.zeros([0, self.embedding_size], np.float32)
            return tf.constant(stacked[0] if single else stacked)
        if not as_array:
            return answers[0] if single else answers
        if single:
            return answers[0]
        return np.stack(answers) if answers else np.zeros([0, self.embedding_size], np.float32)


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise errors.BrokenCheckpointError(f"{path} cannot be read: {error}") from error
    if not isinstance(value, dict):
        raise errors.BrokenCheckpointError(f"{path} should hold a JSON object.")
    return value
