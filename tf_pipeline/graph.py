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
PADDING_SLACK = 0.2  # padded slots ≤ 1.2 × real tokens per chunk; best of 0-1 on the benchmark texts


def input_signature(input_names: Sequence[str]) -> dict[str, tf.TensorSpec]:
    """One ``[batch, length]`` int32 spec per model input."""
    return {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in input_names}


def compile_forward(model, input_names: Sequence[str], *, jit_compile: bool = False):
    """A ``tf.function`` that maps a dict of int32 id tensors to the model's logits.

    Without XLA, rows run length-sorted in chunks (:func:`sorted_chunk_logits`).
    ``jit_compile=True`` compiles with XLA (one compilation per distinct input shape), which needs
    fixed shapes, so the caller pads and chunks (:func:`pad_to_bucket`, :func:`chunks`).
    """

    @tf.function(input_signature=[input_signature(input_names)], jit_compile=jit_compile)
    def forward(inputs):
        return model_logits(model, inputs, sort_and_chunk=not jit_compile)

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
    at once and run at half speed (benchmarks/results.json). Each chunk is then cut after its
    last real token (``attention_mask``), so it pads only to its own longest text.

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
    """Drop the trailing columns that hold padding in every row.

    Leading padding stays: with absolute position embeddings, removing it would move the
    real tokens and change the answer of a left-padded row.
    """
    if "attention_mask" not in tensors:
        return tensors
    real = tf.where(tf.reduce_any(tensors["attention_mask"] > 0, axis=0))[:, 0]
    if tf.size(real) == 0:
        return tensors
    last = int(real[-1]) + 1
    return {name: tensor[:, :last] for name, tensor in tensors.items()}


def model_logits(model, inputs: dict[str, tf.Tensor], *, sort_and_chunk: bool = True) -> tf.Tensor:
    """The model's logits for a ``[batch, length]`` batch, in length-sorted chunks when it has a mask.

    Example:
        >>> model_logits(model, {"input_ids": ids, "attention_mask": mask})   # [batch, num_labels]
    """
    def run(chunk):
        return model(**chunk, training=False).logits

    if not sort_and_chunk or "attention_mask" not in inputs:
        return run(inputs)
    return sorted_chunk_logits(run, inputs, model.config.num_labels)


def sorted_chunk_logits(run, tensors: dict[str, tf.Tensor], num_labels: int, *,
                        budget: int = ATTENTION_BUDGET, padding_slack: float = PADDING_SLACK) -> tf.Tensor:
    """``run`` on length-sorted row chunks, inside the graph; logits come back in input order.

    Rows are sorted by where their last real token is (``attention_mask``) and cut greedily into
    chunks, each cut to its own widest row. A chunk grows while its padded slots stay within
    ``1 + padding_slack`` times its real tokens and ``rows × width² ≤ budget`` (attention memory).
    So a batch of mixed lengths (a client's, or one TF Serving's batching built) pays little
    padding: 30 → 90 texts/s at batch 32 on the benchmark texts. Only trailing padding is
    dropped, so each row gets the answer it gets alone. Core ops only: TF Serving runs it.

    Example:
        >>> sorted_chunk_logits(lambda ids: model(**ids).logits, {"input_ids": ids, "attention_mask": mask}, 2)
    """
    mask = tensors["attention_mask"]
    width = tf.shape(mask)[1]
    ends = tf.reduce_max(tf.where(mask > 0, tf.range(1, width + 1)[tf.newaxis], 0), axis=1)
    ends = tf.where(ends > 0, ends, width)  # a row without real tokens keeps its full width
    order = tf.argsort(ends, stable=True)
    ends = tf.cast(tf.gather(ends, order), tf.float64)
    tokens_before = tf.cumsum(ends, exclusive=True)
    ordered = {name: tf.gather(tensor, order) for name, tensor in tensors.items()}
    batch = tf.shape(order, out_type=tf.int64)[0]
    index = tf.range(batch)

    def step(start, logits):
        rows = tf.cast(index - start + 1, tf.float64)
        real_tokens = tokens_before + ends - tokens_before[start]
        fits = (rows * ends * ends <= budget) & (rows * ends <= (1 + padding_slack) * real_tokens)
        fits = tf.cast(fits | (index <= start), tf.int64)  # the first row always fits
        count = tf.reduce_sum(tf.math.cumprod(fits)) - start  # rows up to the first that does not fit
        chunk_width = tf.cast(ends[start + count - 1], tf.int64)
        chunk = {name: tensor[start:start + count, :chunk_width] for name, tensor in ordered.items()}
        return start + count, logits.write(logits.size(), run(chunk))

    _, parts = tf.while_loop(
        lambda start, _: start < batch, step,
        (tf.constant(0, tf.int64), tf.TensorArray(tf.float32, size=0, dynamic_size=True,
                                                    element_shape=[None, num_labels], infer_shape=False)),
        parallel_iterations=1,
    )
    return tf.gather(parts.concat(), tf.argsort(order))


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
