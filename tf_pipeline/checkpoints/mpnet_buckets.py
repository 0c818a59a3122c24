"""MPNet's relative-position buckets as a table lookup, so its graph converts to TFLite builtins.

transformers' ``TFMPNetEncoder._relative_position_bucket`` divides int32 positions, which makes
float64 ``RealDiv`` and ``Log`` ops: TFLite has no builtin for them, so the conversion fails. The
buckets depend only on the relative position, so :func:`use_bucket_table` computes them once in
NumPy, with the same float64 formula, for every relative position up to the model's positions, and
the encoder gathers from that int32 table instead. Same buckets, same answers; no float64 in the graph.

Example:
    >>> bucket_table(max_distance=128, num_buckets=32, positions=4).tolist()
    [3, 2, 1, 0, 17, 18, 19]
"""

from __future__ import annotations

import math

import numpy as np


def bucket_table(*, max_distance: int, num_buckets: int, positions: int) -> np.ndarray:
    """The bucket of each relative position ``-(positions - 1) … positions - 1``, in that order.

    Args:
        max_distance: the distance from which all positions share the last bucket (HF: 128).
        num_buckets: the config's ``relative_attention_num_buckets``.
        positions: the longest sequence the table must cover.

    Returns:
        int32 array of ``2 * positions - 1`` buckets, HF's formula evaluated in float64.
    """
    relative = np.arange(-(positions - 1), positions, dtype=np.int64)
    n = -relative
    half = num_buckets // 2
    buckets = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    max_exact = half // 2
    far = np.maximum(n, max_exact)  # log only where HF's np.where keeps it: positions below max_exact are exact
    large = max_exact + (np.log(far / max_exact) / math.log(max_distance / max_exact) * (half - max_exact)).astype(np.int64)
    large = np.minimum(large, half - 1)
    return (buckets + np.where(n < max_exact, n, large)).astype(np.int32)


MAX_DISTANCE = 128  # what HF's compute_position_bias leaves _relative_position_bucket at


def use_bucket_table(model) -> None:
    """Make an HF TF MPNet model's encoder look its relative-position buckets up in a table (in place)."""
    import tensorflow as tf

    encoder = getattr(model, model.base_model_prefix).encoder
    positions = int(model.config.max_position_embeddings)
    table = tf.constant(bucket_table(max_distance=MAX_DISTANCE, positions=positions,
                                     num_buckets=int(model.config.relative_attention_num_buckets)))

    def lookup(relative_position, **_):  # HF passes num_buckets, the config's, which the table was made with
        return tf.gather(table, tf.cast(relative_position, tf.int32) + (positions - 1))

    encoder._relative_position_bucket = lookup
