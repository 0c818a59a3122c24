"""Zero-shot classification: an NLI classifier scores each candidate label as a hypothesis, as HF's
``ZeroShotClassificationPipeline`` does.

Each sequence becomes one text pair per candidate label, ``(sequence, hypothesis_template.format(label))``;
the model's logits for those pairs give, per label, the entailment logit. With one label or
``multi_label=True`` each label's score is the softmax of its (contradiction, entailment) logits;
otherwise a softmax of the entailment logits over the labels. The entailment id is the config's
first label starting with "entail" (any case), as HF finds it (-1, the last logit, with a warning
if none does).

Example:
    >>> task = ZeroShotClassification(labels=("contradiction", "neutral", "entailment"), entailment_id=2)
    >>> task.answer("a text", ["yes", "no"], np.array([[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]), multi_label=False)["labels"]
    ['yes', 'no']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from tf_pipeline import errors
from tf_pipeline.tasks.base import CallOptions, Task, batch_size_option, is_batch, refuse_unknown
from tf_pipeline.tasks.inputs import TextPair, check_text, has_text, is_stream, validate_texts
from tf_pipeline.tasks.text_classification import SequenceLogits, numpy_scores

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "This example is {}."
TEMPLATE_ERROR = ('The provided hypothesis_template "{}" was not able to be formatted with the target labels. '
                  "Make sure the passed template includes formatting syntax such as {{}} where the label should go.")
OPTIONS_SIGNATURE = "serving_options"  # the export's signature that takes the template and multi_label too
VERIFY_LABELS = ("electronics", "film", "food", "travel")  # the candidate labels verify and warm-up requests send
SEQUENCES_PER_STEP = 8  # sequences whose pairs are streamed together (a generator is read this many at a time)


def entailment_id(label2id: dict) -> int:
    """The id of the config's first label that starts with "entail" (any case); -1 if none, as HF.

    Example:
        >>> entailment_id({"CONTRADICTION": 0, "NEUTRAL": 1, "ENTAILMENT": 2}), entailment_id({"a": 0})
        (2, -1)
    """
    for label, index in label2id.items():
        if str(label).lower().startswith("entail"):
            return int(index)
    return -1


def candidate_labels_option(labels: Any) -> list[str]:
    """``candidate_labels`` as HF parses them: a list, or one string split at commas (blank parts dropped).

    Example:
        >>> candidate_labels_option("sport, politics,, art")
        ['sport', 'politics', 'art']
    """
    if isinstance(labels, str):
        labels = [label.strip() for label in labels.split(",") if label.strip()]
    if not isinstance(labels, (list, tuple)) or not labels:
        raise errors.InvalidInputError("You must include at least one label and at least one sequence "
                                       f"(candidate_labels: a list of labels or a comma-separated string, got {labels!r}).")
    return [check_text(f"candidate label {index}", label) for index, label in enumerate(labels)]


def hypothesis(template: str, label: str) -> str:
    """``template.format(label)``, HF's hypothesis; a template that format cannot fill is an :class:`InvalidInputError`.

    Example:
        >>> hypothesis("This example is {}.", "art")
        'This example is art.'
    """
    try:
        return template.format(label)
    except (IndexError, KeyError, ValueError) as error:
        raise errors.InvalidInputError(f"{TEMPLATE_ERROR.format(template)} ({type(error).__name__}: {error})") from None


def graph_hypotheses(template, labels):
    """In the graph, ``template.format(label)`` for each label: the template split at its ``{}`` (an
    error if it has none), ``{{`` and ``}}`` read as braces.

    Example:
        >>> import tensorflow as tf
        >>> graph_hypotheses(tf.constant("It is {{really}} about {}."), tf.constant(["art"])).numpy()
        array([b'It is {really} about art.'], dtype=object)
    """
    import tensorflow as tf

    parts = tf.strings.split(template, "{}", maxsplit=1)
    check = tf.debugging.assert_equal(tf.size(parts), 2, message=(
        "The hypothesis_template was not able to be formatted with the target labels: it needs {} where the label goes."))
    with tf.control_dependencies([check]):
        prefix, suffix = (tf.strings.regex_replace(tf.strings.regex_replace(part, "{{", "{"), "}}", "}")
                          for part in (parts[0], parts[-1]))
    return prefix + labels + suffix


@dataclass(frozen=True)
class ZeroShotClassification(SequenceLogits, Task):
    """``TFAutoModelForSequenceClassification`` of an NLI model → entailment scores of candidate labels.

    Args:
        labels: the NLI model's labels in logit order (e.g. contradiction, neutral, entailment).
        entailment_id: the entailment logit's index (:func:`entailment_id`).
    """

    labels: tuple[str, ...]
    entailment_id: int

    name = "zero-shot-classification"
    model_class = "TFAutoModelForSequenceClassification"
    reads_first_token = True
    reads_pairs = True
    record_fields = {"labels": "strings", "scores": "vector"}
    @classmethod
    def from_checkpoint(cls, config, folder: str | Path | None = None) -> "ZeroShotClassification":
        found = entailment_id(config.label2id)
        if found == -1:
            logger.warning("Failed to determine 'entailment' label id from the label2id mapping in the model config "
                           "(%s); using -1, the last logit. Name the labels in config.json's id2label.",
                           ", ".join(map(str, config.label2id)))
        labels = tuple(str(config.id2label[index]) for index in range(config.num_labels))
        return cls(labels=labels, entailment_id=found)

    # in the graph: the NLI model's logits per pair (output_specs, model_outputs: SequenceLogits)

    def graph_answers(self, outputs, valid=None) -> dict:
        """Per pair, its ``logits`` (``predict_ids`` and ``serving_pairs``; zeros and ``valid`` false for blank rows)."""
        import tensorflow as tf

        if valid is None:
            return {"logits": outputs["logits"]}
        return {"logits": tf.where(valid[:, tf.newaxis], outputs["logits"], 0.0), "valid": valid}

    def request_signatures(self, predict_pairs) -> dict:
        """``serving_default`` (``sequences``, ``candidate_labels``; HF's template, one label per text) and
        ``serving_options`` (and ``hypothesis_template``, ``multi_label``): answers as :meth:`graph_zero_shot`."""
        import tensorflow as tf

        if predict_pairs is None:
            raise errors.UnsupportedModelError("zero-shot classification is served on text pairs; this tokenizer has "
                                               "no in-graph pair template.")

        def with_options(sequences, candidate_labels, hypothesis_template, multi_label):
            return self.graph_zero_shot(predict_pairs, sequences, candidate_labels, hypothesis_template, multi_label)

        def default(sequences, candidate_labels):
            return with_options(sequences, candidate_labels, tf.constant(DEFAULT_TEMPLATE), tf.constant(False))

        sequences = tf.TensorSpec([None], tf.string, name="sequences")
        labels = tf.TensorSpec([None], tf.string, name="candidate_labels")
        return {"serving_default": tf.function(default).get_concrete_function(sequences, labels),
                OPTIONS_SIGNATURE: tf.function(with_options).get_concrete_function(
                    sequences, labels, tf.TensorSpec([], tf.string, name="hypothesis_template"),
                    tf.TensorSpec([], tf.bool, name="multi_label"))}

    def graph_zero_shot(self, predict_pairs, sequences, candidate_labels, hypothesis_template, multi_label) -> dict:
        """In the graph, HF's answer for every sequence: ``labels`` and ``scores`` ``[sequences, labels]`` best
        first, ``sequence`` and ``valid`` (a blank sequence answers empty labels and zero scores).

        Args:
            predict_pairs: ``(text, text_pair) → {"logits", "valid"}``, the export's pair signature.
            sequences: ``[n]`` texts; candidate_labels: ``[k]`` labels (an error if none or one is blank);
            hypothesis_template: a scalar with one ``{}``; multi_label: a scalar bool.
        """
        import tensorflow as tf

        count = tf.size(candidate_labels)
        checks = [tf.debugging.assert_positive(count, message="You must include at least one label."),
                  tf.debugging.assert_equal(tf.reduce_all(has_text(candidate_labels)), True,
                                            message="candidate_labels must not be empty or whitespace only.")]
        with tf.control_dependencies(checks):
            hypotheses = graph_hypotheses(hypothesis_template, candidate_labels)
        answers = predict_pairs(tf.repeat(sequences, count), tf.tile(hypotheses, [tf.size(sequences)]))
        logits = tf.reshape(answers["logits"], [tf.size(sequences), count, len(self.labels)])
        entailment = self.entailment_id % len(self.labels)
        contradiction = len(self.labels) - 1 if entailment == 0 else 0
        each = tf.nn.softmax(tf.gather(logits, [contradiction, entailment], axis=-1), axis=-1)[..., 1]
        across = tf.nn.softmax(logits[..., entailment], axis=-1)
        scores = tf.where(tf.logical_or(multi_label, count == 1), each, across)
        # best first; ties as NumPy's reversed argsort orders them (the later label first)
        order = count - 1 - tf.argsort(tf.reverse(scores, [1]), direction="DESCENDING", stable=True)
        valid = has_text(sequences)
        return {"sequence": sequences,
                "labels": tf.where(valid[:, tf.newaxis], tf.gather(candidate_labels, order), ""),
                "scores": tf.where(valid[:, tf.newaxis], tf.gather(scores, order, batch_dims=1), 0.0),
                "valid": valid}

    def serving_requests(self, texts: Sequence[str]) -> dict[str, dict]:
        """Requests for the signatures of :meth:`request_signatures` (warm-up and ``verify``)."""
        labels = list(VERIFY_LABELS)
        return {"serving_default": {"sequences": list(texts), "candidate_labels": labels},
                OPTIONS_SIGNATURE: {"sequences": list(texts), "candidate_labels": labels,
                                    "hypothesis_template": "The text is about {}.", "multi_label": True}}

    def request_answers(self, pipe, request: dict) -> dict[str, np.ndarray]:
        """What a signature of :meth:`request_signatures` answers for ``request``, computed eagerly by ``pipe``."""
        kwargs = {key: request[key] for key in ("candidate_labels", "hypothesis_template", "multi_label") if key in request}
        answers = self.call(pipe, list(request["sequences"]), kwargs)
        return {"sequence": np.array([answer["sequence"] for answer in answers], object),
                "labels": np.array([answer["labels"] for answer in answers], object),
                "scores": np.array([answer["scores"] for answer in answers], np.float32)}

    # eagerly

    def options(self, *, candidate_labels: Any = None, hypothesis_template: Any = DEFAULT_TEMPLATE,
                multi_label: Any = None, multi_class: Any = None, batch_size: Any = 32, **unknown) -> CallOptions:
        """HF's arguments: ``candidate_labels`` (needed by a call, or given when the pipeline is made),
        ``hypothesis_template`` (with ``{}`` for the label), ``multi_label`` (``multi_class``: its old name)."""
        refuse_unknown(self.name, unknown, ("candidate_labels", "hypothesis_template", "multi_label", "multi_class",
                                            "batch_size"))
        if multi_class is not None:
            logger.warning("The `multi_class` argument has been deprecated and renamed to `multi_label`.")
            multi_label = multi_class
        labels = None if candidate_labels is None else candidate_labels_option(candidate_labels)
        if not isinstance(hypothesis_template, str) or (labels and hypothesis(hypothesis_template, labels[0]) == hypothesis_template):
            raise errors.InvalidInputError(TEMPLATE_ERROR.format(hypothesis_template))
        return CallOptions(answer={"candidate_labels": labels, "hypothesis_template": hypothesis_template,
                                   "multi_label": bool(multi_label)}, batch_size=batch_size_option(batch_size))

    def score_options(self, kwargs: dict) -> dict:
        """``candidate_labels`` (needed), ``hypothesis_template`` and ``multi_label``, checked."""
        refuse_unknown(f"scoring with {self.name}", kwargs, ("candidate_labels", "hypothesis_template", "multi_label"))
        settings = self.options(**kwargs).answer
        if settings["candidate_labels"] is None:
            raise errors.InvalidInputError("zero-shot classification needs candidate_labels to score records with.")
        return settings

    def score(self, pipe, inputs: list, options: dict) -> list[dict]:
        """Per sequence its ``labels`` and ``scores``, best first."""
        return [{"labels": answer["labels"], "scores": answer["scores"]} for answer in self.call(pipe, list(inputs), options)]

    def postprocess(self, outputs, **options) -> list:
        """Per pair, its logits (the answer needs all of a sequence's pairs: :meth:`answer`)."""
        return list(np.asarray(outputs["logits"], np.float32))

    def answer(self, sequence: str, labels: Sequence[str], logits: np.ndarray, *, multi_label: bool) -> dict:
        """One sequence's answer from its pairs' logits ``[len(labels), num_logits]``: labels best first."""
        if multi_label or len(labels) == 1:
            contradiction = -1 if self.entailment_id == 0 else 0
            scores = numpy_scores(logits[:, [contradiction, self.entailment_id]], "softmax")[:, 1]
        else:
            scores = numpy_scores(logits[:, self.entailment_id], "softmax")
        order = list(reversed(scores.argsort()))
        return {"sequence": sequence, "labels": [labels[index] for index in order],
                "scores": scores[order].tolist()}

    def call(self, pipe, inputs: Any, kwargs: dict, defaults: dict | None = None, args: tuple = ()) -> Any:
        """HF's forms: ``pipe(sequences, candidate_labels, ...)`` or ``candidate_labels=``; one sequence
        answers a dict, a list a list of them, a generator a generator."""
        if len(args) > 1 or (args and "candidate_labels" in kwargs):
            raise errors.InvalidInputError(f"Unable to understand extra arguments {args}")
        if args:
            kwargs = {**kwargs, "candidate_labels": args[0]}
        options = self.options(**{**(defaults or {}), **kwargs})
        settings = options.answer
        if settings["candidate_labels"] is None:
            raise errors.InvalidInputError("zero-shot classification needs candidate_labels (a list, or a "
                                           "comma-separated string), in the call or when the pipeline is made.")
        if is_stream(inputs):
            return self._answers(pipe, (check_text(index, text) for index, text in enumerate(inputs)), options)
        sequences = validate_texts(inputs)
        if not sequences:
            raise errors.InvalidInputError("You must include at least one label and at least one sequence.")
        answers = list(self._answers(pipe, iter(sequences), options))
        return answers if is_batch(inputs) else answers[0]

    def _answers(self, pipe, sequences: Iterator[str], options: CallOptions) -> Iterator[dict]:
        settings = options.answer
        labels, template = settings["candidate_labels"], settings["hypothesis_template"]
        hypotheses = [hypothesis(template, label) for label in labels]
        while step := list(islice(sequences, SEQUENCES_PER_STEP)):
            pairs = [TextPair(sequence, hypothesis) for sequence in step for hypothesis in hypotheses]
            logits = np.stack(list(pipe.stream(pairs, batch_size=options.batch_size)))
            for index, sequence in enumerate(step):
                rows = logits[index * len(labels):(index + 1) * len(labels)]
                yield self.answer(sequence, labels, rows, multi_label=settings["multi_label"])
