"""Step 2, compiled: token ids → logits under one ``tf.function``, in length-sorted row chunks.

The input signature has dynamic batch and length (``[None, None]``), so new
batch sizes and sequence lengths reuse the one trace.

Example:
    >>> forward = compile_forward(model, ["input_ids", "attention_mask"])
    >>> logits = forward({"input_ids": ids, "attention_mask": mask})
"""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from tf_pipeline.pipeline.first_token import first_token_only

ATTENTION_BUDGET = 2 ** 18  # rows × length² per model call (docs/benchmark.md: how it was chosen)
PADDING_SLACK = 0.2  # padded slots ≤ 1.2 × real tokens per chunk (docs/benchmark.md)


def input_signature(input_names: Sequence[str]) -> dict[str, tf.TensorSpec]:
    """One ``[batch, length]`` int32 spec per model input."""
    return {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in input_names}


def compile_forward(model, input_names: Sequence[str], *, jit_compile: bool = False):
    """A ``tf.function`` that maps a dict of int32 id tensors to the model's logits.

    Without XLA, rows run length-sorted in chunks (:func:`sorted_chunk_logits`).
    ``jit_compile=True`` compiles with XLA (one compilation per distinct input shape), which needs
    fixed shapes, so the caller runs :func:`sorted_chunk_logits` eagerly and pads each chunk up to a
    length bucket (:func:`pad_to_bucket`).
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


def plain_logits(model, inputs: dict[str, tf.Tensor]) -> tf.Tensor:
    """The model's logits for one batch as it comes (no chunking); the last layer runs for the first
    token only where the head reads nothing else (:mod:`tf_pipeline.pipeline.first_token`).

    Example:
        >>> plain_logits(model, {"input_ids": ids, "attention_mask": mask})   # [batch, num_labels]
    """
    with first_token_only(model):
        return model(**inputs, training=False).logits


def model_logits(model, inputs: dict[str, tf.Tensor], *, sort_and_chunk: bool = True) -> tf.Tensor:
    """The model's logits for a ``[batch, length]`` batch, in length-sorted chunks when it has a mask.

    Example:
        >>> model_logits(model, {"input_ids": ids, "attention_mask": mask})   # [batch, num_labels]
    """
    if not sort_and_chunk or "attention_mask" not in inputs:
        return plain_logits(model, inputs)
    return sorted_chunk_logits(lambda chunk: plain_logits(model, chunk), inputs, model.config.num_labels)


def sorted_chunk_logits(run, tensors: dict[str, tf.Tensor], num_labels: int, *,
                        budget: int = ATTENTION_BUDGET, padding_slack: float = PADDING_SLACK,
                        max_rows: int | None = None) -> tf.Tensor:
    """``run`` on length-sorted row chunks, inside the graph; logits come back in input order.

    Rows are sorted by where their last real token is (``attention_mask``) and cut greedily into
    chunks, each cut to its own widest row. A chunk grows while its padded slots stay within
    ``1 + padding_slack`` times its real tokens and ``rows × width² ≤ budget`` (attention memory).
    So a batch of mixed lengths (a client's, or one TF Serving's batching built) pays little
    padding (docs/benchmark.md has the measurements). Only trailing padding is
    dropped, so each row gets the answer it gets alone. Core ops only: TF Serving runs it.

    The one chunker: it runs in the graph (the pipeline, the SavedModel) and eagerly, where ``run``
    may be any Python callable (the XLA pipeline, a TFLite interpreter). ``padding_slack=math.inf``
    chunks by the memory budget only; ``max_rows`` caps the rows per call.

    Example:
        >>> sorted_chunk_logits(lambda ids: plain_logits(model, ids), {"input_ids": ids, "attention_mask": mask}, 2)
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
        if max_rows is not None:
            fits &= rows <= max_rows
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
