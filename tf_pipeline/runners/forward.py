"""Step 2, compiled: token ids → a task's outputs under one ``tf.function``, in length-sorted row chunks.

The input signature has dynamic batch and length (``[None, None]``), so new batch sizes and
sequence lengths reuse the one trace. :func:`plain_outputs` is the one model call (the forward,
the SavedModel signatures and the TFLite converter trace it); :func:`sorted_chunks` is the one
chunker, for any task's outputs. :data:`GRAPH_VERSION` names what they trace: the forward and
TFLite caches key on it.

Example:
    >>> forward = compile_forward(model, task, ["input_ids", "attention_mask"])   # doctest: +SKIP
    >>> forward({"input_ids": ids, "attention_mask": mask})["logits"]             # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from typing import Callable, Mapping, Sequence

import tensorflow as tf

from tf_pipeline.runners.first_token import first_token_only
from tf_pipeline.tasks.base import Task

GRAPH_VERSION = 6  # raised whenever what is traced changes; cached forwards and .tflite files of another version go unused
ATTENTION_BUDGET = 2 ** 18  # rows × length² per model call (docs/benchmark.md: how it was chosen)
PADDING_SLACK = 0.2  # padded slots ≤ 1.2 × real tokens per chunk (docs/benchmark.md)


def input_signature(input_names: Sequence[str]) -> dict[str, tf.TensorSpec]:
    """One ``[batch, length]`` int32 spec per model input.

    Example:
        >>> input_signature(["input_ids"])
        {'input_ids': TensorSpec(shape=(None, None), dtype=tf.int32, name='input_ids')}
    """
    return {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in input_names}


def compile_forward(model, task: Task, input_names: Sequence[str], *, jit_compile: bool = False):
    """A ``tf.function`` that maps a dict of int32 id tensors to the task's outputs.

    Without XLA, rows run length-sorted in chunks (:func:`sorted_chunks`). ``jit_compile=True``
    compiles with XLA (one compilation per distinct input shape), which needs fixed shapes, so the
    caller runs :func:`sorted_chunks` eagerly and pads each chunk up to a length bucket (:func:`pad_to_bucket`).
    """

    @tf.function(input_signature=[input_signature(input_names)], jit_compile=jit_compile)
    def forward(inputs):
        return model_outputs(model, task, inputs, sort_and_chunk=not jit_compile)

    return forward


def buckets_up_to(buckets: Sequence[int], max_length: int) -> tuple[int, ...]:
    """Sorted bucket lengths below ``max_length``, with ``max_length`` itself as the last bucket.

    Example:
        >>> buckets_up_to((16, 32, 64), 40)
        (16, 32, 40)
    """
    return tuple(sorted({length for length in buckets if 0 < length < max_length} | {max_length}))


def pad_to_bucket(tensors: dict[str, tf.Tensor], buckets: Sequence[int], pad_values: dict[str, int]):
    """Pad every ``[batch, length]`` tensor on the right to the smallest bucket ≥ length.

    Example:
        >>> pad_to_bucket({"input_ids": tf.ones([1, 20], tf.int32)}, (16, 32), {})["input_ids"].shape
        TensorShape([1, 32])
    """
    length = int(next(iter(tensors.values())).shape[1])
    target = next((bucket for bucket in buckets if bucket >= length), length)
    if target == length:
        return tensors
    return {name: tf.pad(tensor, [[0, 0], [0, target - length]], constant_values=pad_values.get(name, 0))
            for name, tensor in tensors.items()}


def plain_outputs(model, task: Task, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """The task's outputs for one batch as it comes (no chunking): the one model call.

    For a task whose head reads the first token only, the last encoder layer runs for that token
    (:mod:`tf_pipeline.runners.first_token`).

    Example:
        >>> plain_outputs(model, task, {"input_ids": ids, "attention_mask": mask})["logits"]   # doctest: +SKIP
    """
    with first_token_only(model) if task.reads_first_token else contextlib.nullcontext():
        return task.model_outputs(model, inputs)


def model_outputs(model, task: Task, inputs: dict[str, tf.Tensor], *, sort_and_chunk: bool = True) -> dict[str, tf.Tensor]:
    """The task's outputs for a ``[batch, length]`` batch, in length-sorted chunks when it has a mask.

    Example:
        >>> model_outputs(model, task, {"input_ids": ids, "attention_mask": mask})   # doctest: +SKIP
    """
    if not sort_and_chunk or "attention_mask" not in inputs:
        return plain_outputs(model, task, inputs)
    return sorted_chunks(lambda chunk: plain_outputs(model, task, chunk), inputs, task.output_specs(),
                         task.token_outputs)


def sorted_chunks(run: Callable[[dict], Mapping], tensors: dict[str, tf.Tensor], specs: Mapping[str, tf.TensorSpec],
                  token_outputs: frozenset[str] = frozenset(), *, budget: int = ATTENTION_BUDGET,
                  padding_slack: float = PADDING_SLACK, max_rows: int | None = None) -> dict[str, tf.Tensor]:
    """``run`` on length-sorted row chunks, inside the graph; each output comes back in input order.

    Rows are sorted by where their last real token is (``attention_mask``) and cut greedily into
    chunks, each cut to its own widest row. A chunk grows while its padded slots stay within
    ``1 + padding_slack`` times its real tokens and ``rows × width² ≤ budget`` (attention memory).
    So a batch of mixed lengths (a client's, or one TF Serving's batching built) pays little
    padding (docs/benchmark.md has the measurements). Only trailing padding is dropped, so each row
    gets the answer it gets alone. Core ops only: TF Serving runs it.

    ``specs`` gives each output's dtype and shape (batch first); the outputs named in
    ``token_outputs`` have a length axis second, padded back with zeros to the batch's width. The
    one chunker: it runs in the graph (the pipeline, the SavedModel) and eagerly, where ``run`` may
    be any Python callable returning a dict of arrays (the XLA pipeline, a TFLite interpreter).
    ``padding_slack=math.inf`` chunks by the memory budget only; ``max_rows`` caps the rows per call.

    Example:
        >>> specs = {"total": tf.TensorSpec([None], tf.int32)}
        >>> ids = tf.constant([[1, 2, 0], [3, 0, 0]])
        >>> sorted_chunks(lambda chunk: {"total": tf.reduce_sum(chunk["input_ids"], 1)},
        ...               {"input_ids": ids, "attention_mask": tf.cast(ids > 0, tf.int32)}, specs)["total"].numpy()
        array([3, 3], dtype=int32)
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
    names = sorted(specs)

    def widen(name: str, value):
        value = tf.convert_to_tensor(value, specs[name].dtype)
        if name not in token_outputs:
            return value
        padding = [[0, 0], [0, width - tf.shape(value)[1]]] + [[0, 0]] * (len(specs[name].shape) - 2)
        return tf.pad(value, padding)

    def step(start, parts):
        rows = tf.cast(index - start + 1, tf.float64)
        real_tokens = tokens_before + ends - tokens_before[start]
        fits = (rows * ends * ends <= budget) & (rows * ends <= (1 + padding_slack) * real_tokens)
        if max_rows is not None:
            fits &= rows <= max_rows
        fits = tf.cast(fits | (index <= start), tf.int64)  # the first row always fits
        count = tf.reduce_sum(tf.math.cumprod(fits)) - start  # rows up to the first that does not fit
        chunk_width = tf.cast(ends[start + count - 1], tf.int64)
        outputs = run({name: tensor[start:start + count, :chunk_width] for name, tensor in ordered.items()})
        return start + count, tuple(part.write(part.size(), widen(name, outputs[name])) for name, part in zip(names, parts))

    arrays = tuple(tf.TensorArray(specs[name].dtype, size=0, dynamic_size=True, infer_shape=False,
                                  element_shape=specs[name].shape) for name in names)
    _, parts = tf.while_loop(lambda start, _: start < batch, step, (tf.constant(0, tf.int64), arrays),
                             parallel_iterations=1)
    inverse = tf.argsort(order)
    return {name: tf.gather(part.concat(), inverse) for name, part in zip(names, parts)}
