"""Text classification: logits → scores → labels, defined once for every runtime.

The eager answer (NumPy, as HF's ``TextClassificationPipeline.postprocess`` computes it), the
SavedModel signatures and the TFLite files (TensorFlow) turn logits into answers with the functions
here, so they cannot drift apart. The call forms are HF's: one text or a list, text pairs
(``{"text": a, "text_pair": b}``, a list of them, the legacy ``[[[a, b]]]``), ``top_k`` (``None``:
every label; not given: one dict per text), ``function_to_apply``, the legacy
``return_all_scores``, and the tokenizer's ``truncation`` / ``max_length`` / ``padding``.

Example:
    >>> task = TextClassification(labels=("NEG", "POS"), function_to_apply="softmax")
    >>> task.postprocess({"logits": np.array([[0.0, 0.0]])}, top_k=None)
    [[{'label': 'NEG', 'score': 0.5}, {'label': 'POS', 'score': 0.5}]]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tf_pipeline import errors
from tf_pipeline.tasks.base import (CallOptions, Task, batch_size_option, is_batch, refuse_unknown,
                                    tokenizer_max_length)

FUNCTIONS = ("softmax", "sigmoid", "none")
Result = dict[str, Any]
_LEGACY = object()  # "top_k not given": HF then returns one dict per text


def default_function(config) -> str:
    """What HF's pipeline applies to logits for this config: none (regression), sigmoid or softmax.

    In HF's order: ``problem_type="regression"`` first (raw outputs, whatever the number of labels),
    then multi-label or a single label (sigmoid), then single-label or several labels (softmax).

    Example:
        >>> from transformers import BertConfig
        >>> default_function(BertConfig(num_labels=3)), default_function(BertConfig(num_labels=1))
        ('softmax', 'sigmoid')
        >>> default_function(BertConfig(num_labels=2, problem_type="regression"))
        'none'
    """
    if config.problem_type == "regression":
        return "none"
    if config.problem_type == "multi_label_classification" or config.num_labels == 1:
        return "sigmoid"
    if config.problem_type == "single_label_classification" or config.num_labels > 1:
        return "softmax"
    return getattr(config, "function_to_apply", None) or "none"


def function_name(function_to_apply: Any) -> str:
    """``function_to_apply`` as one of :data:`FUNCTIONS` (HF's enum or any case accepted).

    Example:
        >>> function_name("SoftMax")
        'softmax'
    """
    function = str(getattr(function_to_apply, "value", function_to_apply)).lower()
    if function not in FUNCTIONS:
        raise errors.InvalidInputError(
            f"function_to_apply must be one of {', '.join(FUNCTIONS)}, got {function_to_apply!r}.")
    return function


def scores(logits, function_to_apply: str):
    """In the graph: probabilities (softmax or sigmoid over the last axis) or the logits themselves ("none").

    Example:
        >>> import tensorflow as tf
        >>> scores(tf.constant([[0.0, 0.0]]), "softmax").numpy()
        array([[0.5, 0.5]], dtype=float32)
    """
    import tensorflow as tf

    function = function_name(function_to_apply)
    if function == "softmax":
        return tf.nn.softmax(logits, axis=-1)
    if function == "sigmoid":
        return tf.math.sigmoid(logits)
    return tf.identity(logits)


def numpy_scores(logits: np.ndarray, function_to_apply: str) -> np.ndarray:
    """Eagerly, the same as :func:`scores`: softmax or sigmoid over the last axis, or the logits ("none").

    Example:
        >>> numpy_scores(np.array([[0.0, 0.0]]), "softmax")
        array([[0.5, 0.5]])
    """
    function = function_name(function_to_apply)
    if function == "softmax":
        exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return exp / exp.sum(axis=-1, keepdims=True)
    if function == "sigmoid":
        return np.exp(-np.logaddexp(0.0, -logits))  # 1 / (1 + e^-x) without overflow
    return logits


def ranked(probabilities, labels: Sequence[str], top_k: int | None = 1) -> list[list[Result]]:
    """Per row, ``[{"label", "score"}]`` sorted best first and cut to ``top_k`` (None: all), as HF answers.

    Example:
        >>> ranked(np.array([[0.2, 0.8]]), ["NEG", "POS"], top_k=1)
        [[{'label': 'POS', 'score': 0.8}]]
    """
    results = []
    for row in np.asarray(probabilities).tolist():
        pairs = sorted(zip(labels, row), key=lambda pair: pair[1], reverse=True)
        results.append([{"label": label, "score": score} for label, score in pairs[:top_k]])
    return results


def check_top_k(top_k: Any) -> int | None:
    """``top_k`` as HF takes it: a non-negative integer (0 answers ``[]``) or None (every label)."""
    if top_k is None or (isinstance(top_k, int) and not isinstance(top_k, bool) and top_k >= 0):
        return top_k
    raise errors.InvalidInputError(f"top_k must be a non-negative integer or None, got {top_k!r}.")


class SequenceLogits:
    """The graph of a ``TFAutoModelForSequenceClassification`` head: its logits ``[batch, len(labels)]``
    (shared by the tasks that read such a head: text and zero-shot classification)."""

    labels: tuple[str, ...]

    def output_specs(self) -> dict:
        import tensorflow as tf

        return {"logits": tf.TensorSpec([None, len(self.labels)], tf.float32)}

    def model_outputs(self, model, inputs) -> dict:
        return {"logits": model(**inputs, training=False).logits}


@dataclass(frozen=True)
class TextClassification(SequenceLogits, Task):
    """``TFAutoModelForSequenceClassification`` → logits → softmax/sigmoid → ``config.id2label``.

    Args:
        labels: the label names in logit order.
        function_to_apply: what turns logits into scores unless a call says otherwise (HF's default
            for the config: :func:`default_function`).
    """

    labels: tuple[str, ...]
    function_to_apply: str

    name = "text-classification"
    model_class = "TFAutoModelForSequenceClassification"
    reads_first_token = True
    classify_signature = True
    reads_pairs = True
    record_fields = {"label": "string", "score": "float"}
    input_fields = ("text", "text_pair")

    @classmethod
    def from_checkpoint(cls, config, folder: str | Path | None = None) -> "TextClassification":
        labels = tuple(str(config.id2label[index]) for index in range(config.num_labels))
        return cls(labels=labels, function_to_apply=default_function(config))

    # in the graph (output_specs, model_outputs: SequenceLogits)

    def graph_answers(self, outputs, valid=None) -> dict:
        """``logits``, ``probabilities``, the best ``label`` and its ``score`` (and ``valid`` given rows' validity)."""
        import tensorflow as tf

        logits = outputs["logits"]
        probabilities = scores(logits, self.function_to_apply)
        if valid is not None:
            logits = tf.where(valid[:, tf.newaxis], logits, 0.0)
            probabilities = tf.where(valid[:, tf.newaxis], probabilities, 0.0)
        answers = {"logits": logits, "probabilities": probabilities,
                   "label": tf.gather(tf.constant(list(self.labels)), tf.argmax(probabilities, axis=-1, output_type=tf.int32)),
                   "score": tf.reduce_max(probabilities, axis=-1)}
        if valid is not None:
            answers["label"] = tf.where(valid, answers["label"], "")
            answers["valid"] = valid
        return answers

    def classify_outputs(self, answers) -> dict:
        import tensorflow as tf

        batch = tf.shape(answers["probabilities"])[0]
        return {"classes": tf.tile(tf.constant([list(self.labels)]), [batch, 1]), "scores": answers["probabilities"]}

    # eagerly

    def options(self, *, top_k: Any = _LEGACY, function_to_apply: Any = None, return_all_scores: Any = None,
                batch_size: Any = 32, truncation: Any = None, max_length: Any = None, padding: Any = None,
                **unknown) -> CallOptions:
        """HF's arguments. ``top_k`` given (even 1) answers a ranked list per text; not given, one dict
        per text, or with the legacy ``return_all_scores=True`` every label in label order."""
        refuse_unknown(self.name, unknown, ("top_k", "function_to_apply", "return_all_scores", "batch_size",
                                            "truncation", "max_length", "padding"))
        if top_k is not _LEGACY:
            mode = "ranked"
        elif return_all_scores is not None:
            warnings.warn("`return_all_scores` is deprecated: use `top_k=None` instead of `return_all_scores=True` "
                          "or `top_k=1` instead of `return_all_scores=False`.", UserWarning, stacklevel=4)
            top_k, mode = (None, "label order") if return_all_scores else (1, "dict")
        else:
            top_k, mode = 1, "dict"
        return CallOptions(
            postprocess={"top_k": check_top_k(top_k), "sort": mode != "label order",
                         "function_to_apply": None if function_to_apply is None else function_name(function_to_apply)},
            answer={"mode": mode}, batch_size=batch_size_option(batch_size),
            max_length=tokenizer_max_length(truncation=truncation, max_length=max_length, padding=padding))

    def postprocess(self, outputs, *, top_k: int | None = 1, function_to_apply: str | None = None,
                    sort: bool = True) -> list[list[Result]]:
        """Per row, the labels best first (``sort=False``: in label order), cut to ``top_k`` (None: all)."""
        probabilities = numpy_scores(np.asarray(outputs["logits"], np.float32), function_to_apply or self.function_to_apply)
        if sort:
            return ranked(probabilities, self.labels, check_top_k(top_k))
        return [[{"label": label, "score": score} for label, score in zip(self.labels, row)]
                for row in probabilities.tolist()]

    def records(self, outputs) -> list[dict]:
        """Per row the best ``label`` and its ``score`` (and, not written by ``score``, every label's
        ``probabilities`` in label order)."""
        probabilities = numpy_scores(np.asarray(outputs["logits"], np.float32), self.function_to_apply)
        return [{**best[0], "probabilities": row}
                for best, row in zip(ranked(probabilities, self.labels, 1), probabilities.tolist())]

    def format(self, answer, *, mode: str) -> Any:
        return answer[0] if mode == "dict" else answer

    def collect(self, answers: list, inputs: Any, call_kwargs: dict, *, mode: str) -> Any:
        """HF's shapes: a single text's answer comes in a one-item list unless this call names ``top_k``;
        a single pair's (a dict) comes bare."""
        if is_batch(inputs):
            return answers
        return [answers[0]] if isinstance(inputs, str) and "top_k" not in call_kwargs else answers[0]
