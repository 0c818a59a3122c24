"""The compiled inference graph: ids → logits under one ``tf.function``, and logits → scores.

The input signature has dynamic batch and length (``[None, None]``), so new
batch sizes and sequence lengths reuse the one trace.

Example:
    >>> forward = compile_forward(model, ["input_ids", "attention_mask"])
    >>> logits = forward({"input_ids": ids, "attention_mask": mask})
    >>> scores(logits, "softmax")
"""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from . import errors

FUNCTIONS = ("softmax", "sigmoid", "none")


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
