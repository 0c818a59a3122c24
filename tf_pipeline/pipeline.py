"""Hugging Face's text-classification pipeline as three open TensorFlow steps.

``preprocess`` (tokenizer, ``return_tensors="tf"``) → ``forward`` (the TF model
under one ``tf.function``) → ``postprocess`` (``tf.nn.softmax`` or sigmoid, then
``id2label``). Calling the pipeline composes them and answers exactly like
``transformers.TextClassificationPipeline``.

Example:
    >>> pipe = load_pipeline()
    >>> pipe("I hate this so much!")
    [{'label': 'NEGATIVE', 'score': 0.99...}]
    >>> pipe(["good", "bad"], top_k=None)     # all labels, best first, per text
"""

from __future__ import annotations

import inspect
import os
from itertools import islice
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import tensorflow as tf

from . import errors, graph
from .checkpoint import Checkpoint, default_max_length, load_checkpoint

_LEGACY = object()  # "top_k not given": HF then returns one dict per text
SORT_WINDOW = 16  # batches read ahead and sorted by length (bounded memory, less padding)
LENGTH_BUCKETS = (16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512)
"""Padded lengths under XLA: a bounded number of compilations, padding at most ~20% above 16 tokens
(finer steps waste less but compile more; measured in the README's XLA table)."""
Result = dict[str, Any]


class Classifier:
    """What every runner shares: ``postprocess``, ``stream`` and HF-compatible ``__call__``.

    Subclasses provide ``labels``, ``preprocess``, ``forward`` and ``scores``.
    """

    labels: list[str]

    def postprocess(
        self, logits: tf.Tensor, *, top_k: int | None = 1, function_to_apply: str | None = None
    ) -> list[list[Result]]:
        """Per text, ``[{"label", "score"}]`` sorted best first, cut to ``top_k`` (None: all)."""
        if top_k is not None and not is_positive_int(top_k):
            raise errors.InvalidInputError(f"top_k must be a positive integer or None, got {top_k!r}.")
        labels = self.labels
        results = []
        for row in np.asarray(self.scores(logits, function_to_apply)).tolist():
            ranked = sorted(zip(labels, row), key=lambda pair: pair[1], reverse=True)
            results.append([{"label": label, "score": score} for label, score in ranked[:top_k]])
        return results

    def stream(
        self,
        texts: Iterable[str],
        *,
        top_k: int | None = 1,
        function_to_apply: str | None = None,
        batch_size: int = 32,
        sort_window: int = SORT_WINDOW,
    ) -> Iterator[list[Result]]:
        """Yield each text's ranked labels in input order, reading ``texts`` lazily.

        Within each window of ``sort_window`` batches, texts are batched by length, so a batch pads
        to similar lengths instead of to the longest text among random neighbours; ``sort_window=1``
        keeps the input order in every batch. Memory holds one window of texts, however long
        the input. (Files are read through ``tf.data`` by :func:`text_files.read_texts`.)

        Example:
            >>> for ranked in pipe.stream(open("big.txt"), batch_size=64):
            ...     print(ranked[0]["label"])
        """
        if not is_positive_int(batch_size) or not is_positive_int(sort_window):
            raise errors.InvalidInputError(
                f"batch_size and sort_window must be positive integers, got {batch_size!r}, {sort_window!r}."
            )
        iterator = (check_text(index, text) for index, text in enumerate(texts))
        while window := list(islice(iterator, batch_size * sort_window)):
            order = sorted(range(len(window)), key=lambda index: len(window[index]))
            ranked: list = [None] * len(window)
            for start in range(0, len(window), batch_size):
                indices = order[start:start + batch_size]
                logits = self.forward(self.preprocess([window[index] for index in indices]))
                results = self.postprocess(logits, top_k=top_k, function_to_apply=function_to_apply)
                for index, result in zip(indices, results):
                    ranked[index] = result
            yield from ranked

    def __call__(
        self,
        texts: str | list[str],
        *,
        top_k: int | None = _LEGACY,  # type: ignore[assignment]
        function_to_apply: str | None = None,
        batch_size: int = 32,
    ):
        """Classify one text or a list, returning what HF's ``TextClassificationPipeline`` returns.

        Without ``top_k``: one ``{"label", "score"}`` per text (a one-item list for a single
        string). With ``top_k`` (``None`` = all labels): a sorted list per text (just the list
        for a single string).
        """
        single = isinstance(texts, str)
        batch = validate_texts(texts)
        legacy = top_k is _LEGACY
        ranked = list(
            self.stream(
                batch,
                top_k=1 if legacy else top_k,
                function_to_apply=function_to_apply,
                batch_size=batch_size,
            )
        )
        if legacy:
            return [labels[0] for labels in ranked]
        return ranked[0] if single else ranked


class TextClassificationPipeline(Classifier):
    """Tokenizer → TF model → softmax/sigmoid → labels, each step a public method."""

    def __init__(self, checkpoint: Checkpoint, *, max_length: int | None = None, jit_compile: bool = False,
                 length_buckets: Sequence[int] | None = None):
        """``jit_compile=True`` runs the model under XLA, which compiles once per input shape, so
        inputs are then padded up to ``length_buckets`` (default :data:`LENGTH_BUCKETS`)."""
        self.checkpoint = checkpoint
        self.tokenizer = checkpoint.tokenizer
        self.model = checkpoint.model
        self.config = checkpoint.config
        self.source = checkpoint.source
        self.max_length = self._check_max_length(max_length)
        self.input_names = self._model_input_names()
        self.jit_compile = jit_compile
        self.compiled_forward = graph.compile_forward(self.model, self.input_names, jit_compile=jit_compile)
        if length_buckets is None and jit_compile:
            length_buckets = LENGTH_BUCKETS
        self.length_buckets = graph.buckets_up_to(length_buckets, self.max_length) if length_buckets else ()
        self.shapes_seen: set[tuple[int, int]] = set()  # = XLA compilations when jit_compile

    @property
    def id2label(self) -> dict[int, str]:
        return {int(index): name for index, name in self.config.id2label.items()}

    @property
    def labels(self) -> list[str]:
        """Label names in logit order."""
        return [self.id2label[index] for index in range(self.config.num_labels)]

    def _check_max_length(self, max_length: int | None) -> int:
        limit = default_max_length(self.tokenizer, self.config)
        if max_length is None:
            return limit
        if not is_positive_int(max_length) or max_length < 2:
            raise errors.InvalidInputError(f"max_length must be an integer ≥ 2, got {max_length!r}.")
        if max_length > limit:
            raise errors.InvalidInputError(
                f"max_length {max_length} exceeds what this model takes ({limit} tokens)."
            )
        return max_length

    def _model_input_names(self) -> tuple[str, ...]:
        accepted = inspect.signature(self.model.call).parameters
        names = tuple(name for name in self.tokenizer.model_input_names if name in accepted)
        if "input_ids" not in names:
            raise errors.UnsupportedModelError(
                f"The tokenizer's inputs {self.tokenizer.model_input_names} do not include input_ids."
            )
        return names

    def preprocess(self, texts: str | list[str]) -> dict[str, tf.Tensor]:
        """Tokenize like HF: padding to the longest text, truncation to ``max_length``.

        Example:
            >>> pipe.preprocess(["I hate this so much!"])["input_ids"].shape
            TensorShape([1, 8])
        """
        batch = validate_texts(texts)
        return dict(
            self.tokenizer(
                batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="tf"
            )
        )

    def forward(self, inputs: dict[str, Any]) -> tf.Tensor:
        """Logits ``[batch, num_labels]`` from token ids, through the compiled graph.

        Extra keys are ignored; ids may be lists, NumPy arrays or tensors of any int type. Rows run
        in length-sorted chunks (:func:`graph.sorted_chunk_logits`; under XLA, bucket-padded
        :func:`graph.chunks`), so padding is small and memory stays bounded.
        """
        missing = [name for name in self.input_names if name not in inputs]
        if missing:
            raise errors.InvalidInputError(
                f"forward needs {', '.join(self.input_names)}; missing {', '.join(missing)}."
            )
        tensors = {name: _int32_ids(name, inputs[name]) for name in self.input_names}
        shapes = {tuple(tensor.shape) for tensor in tensors.values()}
        if len(shapes) != 1 or len(next(iter(shapes))) != 2:
            raise errors.InvalidInputError(f"forward inputs must share one [batch, length] shape, got {shapes}.")
        if not self.jit_compile:
            return self.compiled_forward(tensors)
        logits = [self._forward_fixed_shape(chunk) for chunk in graph.chunks(tensors)]
        return logits[0] if len(logits) == 1 else tf.concat(logits, axis=0)

    def _forward_fixed_shape(self, tensors: dict[str, tf.Tensor]) -> tf.Tensor:
        """XLA: one compilation per shape, so lengths are padded up to a bucket."""
        if self.length_buckets:
            pad_id = self.tokenizer.pad_token_id or 0
            tensors = graph.pad_to_bucket(tensors, self.length_buckets, {"input_ids": pad_id})
        self.shapes_seen.add(tuple(tensors["input_ids"].shape))
        return self.compiled_forward(tensors)

    def scores(self, logits: tf.Tensor, function_to_apply: str | None = None) -> tf.Tensor:
        """Softmax or sigmoid (HF's default for this config), or "none", over the logits."""
        return graph.scores(logits, function_to_apply or graph.default_function(self.config))


def is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _int32_ids(name: str, values: Any) -> tf.Tensor:
    try:
        tensor = tf.convert_to_tensor(values)
    except (ValueError, TypeError) as error:
        raise errors.InvalidInputError(f"{name} must be an integer id matrix: {error}") from error
    if not tensor.dtype.is_integer:
        raise errors.InvalidInputError(f"{name} must hold integer ids, got {tensor.dtype.name}.")
    return tf.cast(tensor, tf.int32)


def validate_texts(texts: Any) -> list[str]:
    """A list of non-empty strings, or :class:`InvalidInputError` naming the bad item."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)):
        raise errors.InvalidInputError(
            f"texts must be a string or a list of strings, got {type(texts).__name__}."
        )
    return [check_text(index, text) for index, text in enumerate(texts)]


def check_text(index: int | str, text: Any) -> str:
    """``text`` itself if it is a non-blank string; otherwise an error naming it (``text 3``, ``line 4``)."""
    where = f"text {index}" if isinstance(index, int) else index
    if not isinstance(text, str):
        raise errors.InvalidInputError(f"{where} is a {type(text).__name__}, not a string.")
    if not text.strip():
        raise errors.InvalidInputError(f"{where} is empty or only whitespace; there is nothing to classify.")
    return text


def load_pipeline(
    model: str | os.PathLike | None = None,
    *,
    num_labels: int | None = None,
    id2label: dict[int, str] | list[str] | None = None,
    max_length: int | None = None,
    jit_compile: bool = False,
) -> TextClassificationPipeline:
    """Load a text-classification pipeline from a hub id, a local folder, or the default (``None``).

    ``jit_compile=True`` runs the model under XLA with inputs padded to :data:`LENGTH_BUCKETS`.

    Example:
        >>> pipe = load_pipeline("path/to/checkpoint", id2label=["NEGATIVE", "POSITIVE"])
        >>> pipe.tokenizer, pipe.model, pipe.config
    """
    checkpoint = load_checkpoint(model, num_labels=num_labels, id2label=id2label)
    return TextClassificationPipeline(checkpoint, max_length=max_length, jit_compile=jit_compile)
