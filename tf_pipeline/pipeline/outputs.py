"""Step 3, defined once: logits → scores → labels.

The eager pipeline, the SavedModel signatures and the TFLite models all turn logits into answers
with these functions, so they cannot drift apart.

Example:
    >>> probabilities = scores(logits, "softmax")                 # [batch, num_labels]
    >>> graph_outputs(logits, "softmax", tf.constant(["NEG", "POS"]))["label"]
    >>> ranked(probabilities, ["NEG", "POS"], top_k=1)             # [[{"label": "POS", "score": 0.97}]]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import tensorflow as tf

from tf_pipeline import errors

FUNCTIONS = ("softmax", "sigmoid", "none")
Result = dict[str, Any]


def default_function(config) -> str:
    """What HF's pipeline applies to logits for this config: none (regression), sigmoid or softmax.

    In HF's order: ``problem_type="regression"`` first (raw outputs, whatever the number of labels),
    then multi-label or a single label (sigmoid), then single-label or several labels (softmax).
    """
    if config.problem_type == "regression":
        return "none"
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


def graph_outputs(logits: tf.Tensor, function_to_apply: str, labels: tf.Tensor | None = None,
                  valid: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
    """The exported outputs: ``logits``, ``probabilities`` and, given ``labels``, the best ``label``
    and its ``score``.

    ``valid`` (bool per row) marks rows that had text: an invalid row (an empty or blank string sent
    to a served model, which cannot raise for one row of a batch) answers label ``""``, score 0 and
    zero logits and probabilities, and the output ``valid`` says which rows those are.
    """
    probabilities = scores(logits, function_to_apply)
    if valid is not None:
        logits = tf.where(valid[:, tf.newaxis], logits, 0.0)
        probabilities = tf.where(valid[:, tf.newaxis], probabilities, 0.0)
    outputs = {"logits": logits, "probabilities": probabilities}
    if labels is None:
        return outputs
    outputs["label"] = tf.gather(labels, tf.argmax(probabilities, axis=-1, output_type=tf.int32))
    outputs["score"] = tf.reduce_max(probabilities, axis=-1)
    if valid is not None:
        outputs["label"] = tf.where(valid, outputs["label"], "")
        outputs["valid"] = valid
    return outputs


def ranked(probabilities, labels: Sequence[str], top_k: int | None = 1) -> list[list[Result]]:
    """Per row, ``[{"label", "score"}]`` sorted best first and cut to ``top_k`` (None: all), as HF answers."""
    results = []
    for row in np.asarray(probabilities).tolist():
        pairs = sorted(zip(labels, row), key=lambda pair: pair[1], reverse=True)
        results.append([{"label": label, "score": score} for label, score in pairs[:top_k]])
    return results
