"""Trace models so that their TFLite graph keeps no shape arithmetic around dense layers.

A Keras ``Dense`` on a ``[batch, length, hidden]`` input computes ``tf.tensordot``, which reshapes
to 2-D and back with shapes computed at run time (SHAPE, GATHER, REDUCE_PROD, PACK). With dynamic
batch and length, TFLite marks those reshaped tensors dynamic, so every call re-prepares the XNNPACK
partitions behind them: the default model's graph had 574 ops. Traced with ``tf.matmul`` instead
(the same product, broadcast over the leading axes), the converter emits one FULLY_CONNECTED per
layer that keeps the leading axes: 316 ops, and int8 single sentences run ~1.3× faster
(docs/tflite.md, "The graph: dense layers as matmul").

Example:
    >>> with dense_as_matmul():  # doctest: +SKIP
    ...     concrete = tf.function(model_call).get_concrete_function(signature)  # trace here
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import tensorflow as tf

_LOCK = threading.RLock()  # one swap at a time; a nested block in the same thread is fine


@contextlib.contextmanager
def dense_as_matmul() -> Iterator[None]:
    """Within the block, ``tf.tensordot(x, kernel, [[last], [0]])`` of a 2-D kernel traces as ``tf.matmul``.

    The same product (the kernel broadcasts over the leading axes of ``x``); any other
    ``tensordot`` is unchanged. Keras ``Dense`` looks ``tensordot`` up on ``tf`` (``tf.compat.v2``
    in tf_keras) when it is called, so the swap reaches it; both are restored on exit.
    """
    modules = {id(module): module for module in (tf, tf.compat.v2)}.values()
    original = tf.tensordot

    def tensordot(a, b, axes, name=None):
        a, b = tf.convert_to_tensor(a), tf.convert_to_tensor(b)
        rank = a.shape.rank
        if rank is not None and rank >= 2 and b.shape.rank == 2 and _last_with_first(axes, rank):
            return tf.matmul(a, b, name=name)
        return original(a, b, axes, name=name)

    with _LOCK:
        for module in modules:
            module.tensordot = tensordot
        try:
            yield
        finally:
            for module in modules:
                module.tensordot = original


def _last_with_first(axes, rank: int) -> bool:
    """Whether ``axes`` contracts the last axis of a rank-``rank`` tensor with the first of a matrix."""
    try:
        first, second = axes
        return list(first) in ([rank - 1], [-1]) and list(second) == [0]
    except (TypeError, ValueError):
        return False
