"""Feature extraction: the encoder's last hidden states, per token, as HF's ``FeatureExtractionPipeline``.

One text answers ``[1][tokens][hidden]`` nested lists (``return_tensors=True``: a ``tf.Tensor`` of
that shape); a list answers one of those per text. Each text gets its own tokens only: the graph
returns every row padded to its batch's longest and ``token_count``, and the answer keeps the
first ``token_count`` rows. ``truncation`` and ``tokenize_kwargs`` (``max_length``, ``truncation``,
``padding``) are HF's; texts longer than the model takes are always truncated to its limit.

Example:
    >>> task = FeatureExtraction(hidden_size=2)
    >>> task.postprocess({"last_hidden_state": np.ones([1, 3, 2], np.float32), "token_count": np.array([2])})
    [[[[1.0, 1.0], [1.0, 1.0]]]]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tf_pipeline import errors
from tf_pipeline.tasks.base import CallOptions, Task, batch_size_option, refuse_unknown, tokenizer_max_length


def token_count(inputs: dict):
    """In the graph: real tokens per row (``attention_mask``'s sum; every position without a mask)."""
    import tensorflow as tf

    if "attention_mask" in inputs:
        return tf.reduce_sum(tf.cast(inputs["attention_mask"], tf.int32), axis=1)
    ids = inputs["input_ids"]
    return tf.fill([tf.shape(ids)[0]], tf.shape(ids)[1])


def last_hidden_state(model, inputs: dict):
    """In the graph: the encoder's last hidden states ``[batch, length, hidden]`` (its first output)."""
    return model(**inputs, training=False)[0]


@dataclass(frozen=True)
class FeatureExtraction(Task):
    """``TFAutoModel`` → ``last_hidden_state``, each text cut to its own tokens.

    Args:
        hidden_size: the size of each token's vector.
    """

    hidden_size: int

    name = "feature-extraction"
    model_class = "TFAutoModel"
    token_outputs = frozenset({"last_hidden_state"})

    @classmethod
    def from_checkpoint(cls, config, folder: str | Path | None = None) -> "FeatureExtraction":
        return cls(hidden_size=int(config.hidden_size))

    # in the graph

    def output_specs(self) -> dict:
        import tensorflow as tf

        return {"last_hidden_state": tf.TensorSpec([None, None, self.hidden_size], tf.float32),
                "token_count": tf.TensorSpec([None], tf.int32)}

    def model_outputs(self, model, inputs) -> dict:
        import tensorflow as tf

        hidden = last_hidden_state(model, inputs)
        if "attention_mask" in inputs:  # padding positions zero, so every runtime returns the same tensor
            hidden = hidden * tf.expand_dims(tf.cast(inputs["attention_mask"], hidden.dtype), -1)
        return {"last_hidden_state": hidden, "token_count": token_count(inputs)}

    def graph_answers(self, outputs, valid=None) -> dict:
        """``last_hidden_state`` (padded rows) and ``token_count``; invalid rows zero, ``valid`` says which."""
        import tensorflow as tf

        if valid is None:
            return dict(outputs)
        return {"last_hidden_state": tf.where(tf.reshape(valid, [-1, 1, 1]), outputs["last_hidden_state"], 0.0),
                "token_count": tf.where(valid, outputs["token_count"], 0), "valid": valid}

    # eagerly

    def options(self, *, return_tensors: Any = False, truncation: Any = None, tokenize_kwargs: Any = None,
                batch_size: Any = 32, **unknown) -> CallOptions:
        refuse_unknown(self.name, unknown, ("return_tensors", "truncation", "tokenize_kwargs", "batch_size"))
        settings = dict(tokenize_kwargs or {})
        if not isinstance(settings, dict):
            raise errors.InvalidInputError(f"tokenize_kwargs must be a dict, got {type(tokenize_kwargs).__name__}.")
        if truncation is not None:
            if "truncation" in settings:
                raise errors.InvalidInputError(
                    "truncation given twice (as an argument and in tokenize_kwargs); give it once.")
            settings["truncation"] = truncation
        refuse_unknown("tokenize_kwargs", settings, ("max_length", "truncation", "padding"))
        return CallOptions(postprocess={"return_tensors": bool(return_tensors)}, batch_size=batch_size_option(batch_size),
                           max_length=tokenizer_max_length(**settings))

    def postprocess(self, outputs, *, return_tensors: bool = False) -> list:
        """Per row, ``[1][tokens][hidden]``: nested lists, or a ``tf.Tensor`` with ``return_tensors``."""
        hidden = np.asarray(outputs["last_hidden_state"], np.float32)
        rows = [hidden[row, :count][np.newaxis] for row, count in enumerate(np.asarray(outputs["token_count"]).tolist())]
        if return_tensors:
            import tensorflow as tf

            return [tf.constant(row) for row in rows]
        return [row.tolist() for row in rows]
