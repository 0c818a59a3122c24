"""The TensorFlow-graph runner: Hugging Face's pipeline as three open TensorFlow steps, for any task.

``preprocess`` (the HF tokenizer, ``return_tensors="tf"``) → ``forward`` (the TF model and the
task's graph outputs under one ``tf.function``) → ``postprocess`` (the task's: ``tf.nn.softmax``
and ``id2label`` for text classification, pooling for sentence embeddings, ...). Calling the
pipeline composes them and answers exactly like HF's pipeline of the task.

Example:
    >>> pipe = TextClassificationPipeline.from_pretrained("path/to/checkpoint")   # doctest: +SKIP
    >>> pipe("I hate this so much!")                                             # doctest: +SKIP
    [{'label': 'NEGATIVE', 'score': 0.99...}]
    >>> GraphPipeline.from_pretrained("path/to/encoder", task="sentence-embeddings")(["a", "b"]).shape  # doctest: +SKIP
    (2, 384)
"""

from __future__ import annotations

import inspect
import math
import os
from typing import Any, Iterator, Sequence

import numpy as np
import tensorflow as tf

from tf_pipeline import errors
from tf_pipeline.checkpoints.loading import Checkpoint, default_max_length, load_checkpoint
from tf_pipeline.runners import forward as graph
from tf_pipeline.runners.base import Outputs, Runner
from tf_pipeline.tasks.inputs import ModelInput, is_positive_int, validate_inputs
from tf_pipeline.tokenizers.hf import encode, pad_id, token_sorted_batches

LENGTH_BUCKETS = (16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512)
"""Padded lengths under XLA: a bounded number of compilations, padding at most ~20% above 16 tokens
(finer steps waste less but compile more; measured in docs/benchmark.md)."""


class GraphPipeline(Runner):
    """Tokenizer → TF model and the task's graph outputs (one ``tf.function``) → the task's answers.

    Args:
        checkpoint: what :func:`~tf_pipeline.checkpoints.loading.load_checkpoint` returns; its
            ``task`` is the task this pipeline answers.
        max_length: truncate texts to this many tokens (default: the task's or the model's limit).
        jit_compile: run the model under XLA, which compiles once per input shape, so inputs are
            then padded up to ``length_buckets`` (default :data:`LENGTH_BUCKETS`).
        forward_cache: reuse the compiled forward cached on disk for this checkpoint, or write it
            (:mod:`~tf_pipeline.runners.forward_cache`).

    Raises:
        InvalidInputError: ``max_length`` is not an integer ≥ 2 or exceeds the model's limit.
    """

    def __init__(self, checkpoint: Checkpoint, *, max_length: int | None = None, jit_compile: bool = False,
                 length_buckets: Sequence[int] | None = None, forward_cache: bool = False):
        self.checkpoint = checkpoint
        self.task = checkpoint.task
        self.tokenizer = checkpoint.tokenizer
        self.config = checkpoint.config
        self.source = checkpoint.source
        self.max_length = self._check_max_length(max_length)
        self.jit_compile = jit_compile
        self._live_forward = None
        self._cached_forward, cached_names = self._open_forward_cache() if forward_cache else (None, None)
        self.input_names = cached_names or self._model_input_names()
        if length_buckets is None and jit_compile:
            length_buckets = LENGTH_BUCKETS
        self.length_buckets = graph.buckets_up_to(length_buckets, self.max_length) if length_buckets else ()
        self.shapes_seen: set[tuple[int, int]] = set()  # = XLA compilations when jit_compile

    @classmethod
    def from_pretrained(cls, model: str | os.PathLike | None, *, task: str | None = None, num_labels: int | None = None,
                        id2label: dict[int, str] | list[str] | None = None, forward_cache: bool = True,
                        **options) -> "GraphPipeline":
        """The pipeline of a checkpoint folder, a hub id or the built default (``None``), for ``task``
        (default: the one the checkpoint is for).

        The compiled forward is cached on disk (``forward_cache=False``, or the environment variable
        ``TF_PIPELINE_NO_FORWARD_CACHE=1``, turns that off), so the next process starts in about a
        second instead of building the model and tracing it again.

        Example:
            >>> pipe = GraphPipeline.from_pretrained("path/to/checkpoint", max_length=128)   # doctest: +SKIP
        """
        checkpoint = load_checkpoint(model, task=task, num_labels=num_labels, id2label=id2label, lazy=forward_cache)
        return cls(checkpoint, forward_cache=forward_cache, **options)

    @property
    def model(self):
        """The TF model (the task's ``TFAutoModel…`` class), loaded on first use if the forward came from the cache."""
        return self.checkpoint.model

    @property
    def compiled_forward(self):
        """Step 2 as one ``tf.function``: the cached one while the model is not loaded in this process
        (so it cannot have changed), else the live model's, compiled on first use."""
        if self._cached_forward is not None and not self.checkpoint.model_loaded:
            return self._cached_forward
        if self._live_forward is None:
            self._live_forward = graph.compile_forward(self.model, self.task, self.input_names,
                                                       jit_compile=self.jit_compile)
        return self._live_forward

    def _open_forward_cache(self) -> tuple[object, tuple[str, ...] | None]:
        """Load the cached forward, or (when the model is as its files hold it) trace and cache it now."""
        from tf_pipeline.runners import forward_cache

        if self.jit_compile or not forward_cache.enabled():
            return None, None
        folder = forward_cache.cache_folder(self.checkpoint)
        cached = None if self.checkpoint.model_loaded else forward_cache.load_forward(folder)
        if cached:
            return cached
        model = self.model  # loads it: errors in the weights surface here
        if not self.checkpoint.new_weights:
            names = self._model_input_names()
            forward = graph.compile_forward(model, self.task, names)
            forward({name: tf.ones([1, 2], tf.int32) for name in names})  # traced now: the first call is quick
            forward_cache.save_forward(folder, forward, model.weights, names)
            self._live_forward = forward
        return None, None

    @property
    def id2label(self) -> dict[int, str]:
        return {int(index): name for index, name in self.config.id2label.items()}

    @property
    def model_type(self) -> str:
        return self.config.model_type

    def _check_max_length(self, max_length: int | None) -> int:
        limit = default_max_length(self.tokenizer, self.config)
        if max_length is None:
            return min(self.task.max_length or limit, limit)
        if not is_positive_int(max_length) or max_length < 2:
            raise errors.InvalidInputError(f"max_length must be an integer ≥ 2, got {max_length!r}.")
        if max_length > limit:
            raise errors.InvalidInputError(f"max_length {max_length} exceeds what this model takes ({limit} tokens).")
        return max_length

    def _model_input_names(self) -> tuple[str, ...]:
        accepted = inspect.signature(self.model.call).parameters
        names = tuple(name for name in self.tokenizer.model_input_names if name in accepted)
        if "input_ids" not in names:
            raise errors.UnsupportedModelError(
                f"The tokenizer's inputs {self.tokenizer.model_input_names} do not include input_ids."
            )
        return names

    def preprocess(self, texts: str | list[ModelInput], *, max_length: int | None = None) -> dict[str, tf.Tensor]:
        """Tokenize like HF: padding to the longest text, truncation to ``max_length`` (default: the pipeline's);
        a text pair (where the task reads pairs) as ``tokenizer(text, text_pair)`` tokenizes it.

        Example:
            >>> pipe.preprocess(["I hate this so much!"])["input_ids"].shape   # doctest: +SKIP
            TensorShape([1, 8])
        """
        return encode(self.tokenizer, validate_inputs(texts, pairs=self.task.reads_pairs), self.token_limit(max_length), "tf")

    def batches(self, window: list[ModelInput], batch_size: int, max_length: int | None = None
                ) -> Iterator[tuple[list[int], dict[str, np.ndarray]]]:
        """:meth:`Runner.batches`, sorted by token count (:func:`token_sorted_batches`): less padding
        than sorting by characters (docs/benchmark.md)."""
        return token_sorted_batches(self.tokenizer, window, batch_size, self.token_limit(max_length), self.input_names)

    def forward(self, inputs: dict[str, Any]) -> Outputs:
        """The task's outputs (e.g. ``logits`` ``[batch, num_labels]``) from token ids, through the compiled graph.

        Extra keys are ignored; ids may be lists, NumPy arrays or tensors of any int type. Rows run
        in length-sorted chunks (:func:`graph.sorted_chunks`; under XLA eagerly, each chunk padded
        up to a length bucket), so padding is small and memory stays bounded.

        Raises:
            InvalidInputError: an input the model needs is missing, not integer ids, or not ``[batch, length]``.
        """
        missing = [name for name in self.input_names if name not in inputs]
        if missing:
            raise errors.InvalidInputError(f"forward needs {', '.join(self.input_names)}; missing {', '.join(missing)}.")
        tensors = {name: _int32_ids(name, inputs[name]) for name in self.input_names}
        shapes = {tuple(tensor.shape) for tensor in tensors.values()}
        if len(shapes) != 1 or len(next(iter(shapes))) != 2:
            raise errors.InvalidInputError(f"forward inputs must share one [batch, length] shape, got {shapes}.")
        if not self.jit_compile:
            outputs = self.compiled_forward(tensors)
        elif "attention_mask" not in tensors:
            outputs = self._forward_fixed_shape(tensors)
        else:
            outputs = graph.sorted_chunks(self._forward_fixed_shape, tensors, self.task.output_specs(),
                                          self.task.token_outputs, padding_slack=math.inf)
        return {name: value.numpy() for name, value in outputs.items()}

    def _forward_fixed_shape(self, tensors: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """XLA: one compilation per shape, so lengths are padded up to a bucket (and token outputs cut back)."""
        length = int(tensors["input_ids"].shape[1])
        if self.length_buckets:
            tensors = graph.pad_to_bucket(tensors, self.length_buckets, {"input_ids": pad_id(self.tokenizer)})
        self.shapes_seen.add(tuple(tensors["input_ids"].shape))
        outputs = self.compiled_forward(tensors)
        return {name: value[:, :length] if name in self.task.token_outputs else value for name, value in outputs.items()}


class TextClassificationPipeline(GraphPipeline):
    """:class:`GraphPipeline` for text classification (``from_pretrained`` loads the checkpoint's
    sequence-classification head, with a new one if it has none)."""

    @classmethod
    def from_pretrained(cls, model: str | os.PathLike | None, **options) -> "TextClassificationPipeline":
        """The text-classification pipeline of a checkpoint folder, a hub id or the built default (``None``).

        Example:
            >>> pipe = TextClassificationPipeline.from_pretrained("path/to/checkpoint", max_length=128)  # doctest: +SKIP
        """
        return super().from_pretrained(model, task="text-classification", **options)


def _int32_ids(name: str, values: Any) -> tf.Tensor:
    try:
        tensor = tf.convert_to_tensor(values)
    except (ValueError, TypeError) as error:
        raise errors.InvalidInputError(f"{name} must be an integer id matrix: {error}") from error
    if not tensor.dtype.is_integer:
        raise errors.InvalidInputError(f"{name} must hold integer ids, got {tensor.dtype.name}.")
    return tf.cast(tensor, tf.int32)
