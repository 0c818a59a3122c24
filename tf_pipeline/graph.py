"""The compiled inference graph: ids → logits under one ``tf.function``, and logits → scores.

The input signature has dynamic batch and length (``[None, None]``), so new
batch sizes and sequence lengths reuse the one trace.

Example:
    >>> forward = compile_forward(model, ["input_ids", "attention_mask"])
    >>> logits = forward({"input_ids": ids, "attention_mask": mask})
    >>> scores(logits, "softmax")
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import tensorflow as tf

from . import errors

FUNCTIONS = ("softmax", "sigmoid", "none")
ATTENTION_BUDGET = 2 ** 18  # rows × length² per model call; chosen by benchmark (2 cores, MiniLM-L6)


def input_signature(input_names: Sequence[str]) -> dict[str, tf.TensorSpec]:
    """One ``[batch, length]`` int32 spec per model input."""
    return {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in input_names}


def compile_forward(model, input_names: Sequence[str], *, jit_compile: bool = False):
    """A ``tf.function`` that maps a dict of int32 id tensors to the model's logits.

    ``jit_compile=True`` compiles with XLA (one compilation per distinct input shape).
    """

    @tf.function(input_signature=[input_signature(input_names)], jit_compile=jit_compile)
    def forward(inputs):
        return model(**inputs, training=False).logits

    return forward


def buckets_up_to(buckets: Sequence[int], max_length: int) -> tuple[int, ...]:
    """Sorted bucket lengths below ``max_length``, with ``max_length`` itself as the last bucket."""
    return tuple(sorted({length for length in buckets if 0 < length < max_length} | {max_length}))


def pad_to_bucket(tensors: dict[str, tf.Tensor], buckets: Sequence[int], pad_values: dict[str, int]):
    """Pad every ``[batch, length]`` tensor on the right to the smallest bucket ≥ length.

    Example:
        >>> pad_to_bucket({"input_ids": ids_of_length_20}, (16, 32), {})["input_ids"].shape[1]
        32
    """
    length = int(next(iter(tensors.values())).shape[1])
    target = next((bucket for bucket in buckets if bucket >= length), length)
    if target == length:
        return tensors
    return {name: tf.pad(tensor, [[0, 0], [0, target - length]], constant_values=pad_values.get(name, 0))
            for name, tensor in tensors.items()}


def chunks(tensors: dict[str, tf.Tensor], budget: int = ATTENTION_BUDGET) -> Iterator[dict[str, tf.Tensor]]:
    """Split a ``[batch, length]`` batch into row chunks with ``rows × length² ≤ budget``.

    Attention memory grows with length²: 128 texts of 300 tokens need 1.7 GB of attention scores
    at once and run at half speed (benchmarks/results.json). Each chunk is then cut to the columns
    where it has a real token (``attention_mask``), so it pads only to its own longest text.

    Example:
        >>> [part["input_ids"].shape for part in chunks({"input_ids": tf.zeros([128, 256], tf.int32)})]
        [TensorShape([4, 256]), ...]                     # 32 chunks of 4 rows
    """
    batch, length = (int(size) for size in next(iter(tensors.values())).shape)
    count = math.ceil(batch / max(1, budget // max(length * length, 1)))
    if count <= 1:
        yield tensors
        return
    rows = math.ceil(batch / count)
    for start in range(0, batch, rows):
        yield _trim_padding({name: tensor[start:start + rows] for name, tensor in tensors.items()})


def _trim_padding(tensors: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Drop the columns that hold padding in every row (left or right padding alike)."""
    if "attention_mask" not in tensors:
        return tensors
    real = tf.where(tf.reduce_any(tensors["attention_mask"] > 0, axis=0))[:, 0]
    if tf.size(real) == 0:
        return tensors
    first, last = int(real[0]), int(real[-1]) + 1
    return {name: tensor[:, first:last] for name, tensor in tensors.items()}


def default_function(config) -> str:
    """What HF's pipeline applies to logits for this config: sigmoid, softmax or none."""
    if config.problem_type == "multi_label_classification" or config.num_labels == 1:
        return "sigmoid"
    if config.problem_type == "single_label_classification" or config.num_labels > 1:
        return "softmax"
    return getattr(config, "function_to_apply", None) or "none"


def scores(logits: tf.Tensor, function_to_apply: str) -> tf.Tensor:
    """Probabilities (softmax or sigmoid over the last axis) or the logits themselves ("none")."""
    function = str(getattr(function_to_apply, "value", function_to_apply)).lower()
    if function == "softmax":
        return tf.nn.softmax(logits, axis=-1)
    if function == "sigmoid":
        return tf.math.sigmoid(logits)
    if function == "none":
        return tf.identity(logits)
    raise errors.InvalidInputError(
        f"function_to_apply must be one of {', '.join(FUNCTIONS)}, got {function_to_apply!r}."
    )
