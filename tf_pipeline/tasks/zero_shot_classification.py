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
from tf_pipeline.tasks.inputs import TextPair, check_text, is_stream, validate_texts
from tf_pipeline.tasks.text_classification import SequenceLogits, numpy_scores

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "This example is {}."
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
    not_exportable = ("zero-shot classification runs in Python only so far (its export, with candidate labels as "
                      "inputs, is not built yet); export the model as text-classification (task=\"text-classification\") "
                      "to serve its pair logits.")

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
        self.check_exportable()

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
        if not isinstance(hypothesis_template, str) or (labels and hypothesis_template.format(labels[0]) == hypothesis_template):
            raise errors.InvalidInputError(
                f'The provided hypothesis_template "{hypothesis_template}" was not able to be formatted with the target '
                "labels. Make sure the passed template includes formatting syntax such as {} where the label should go.")
        return CallOptions(answer={"candidate_labels": labels, "hypothesis_template": hypothesis_template,
                                   "multi_label": bool(multi_label)}, batch_size=batch_size_option(batch_size))

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
        hypotheses = [template.format(label) for label in labels]
        while step := list(islice(sequences, SEQUENCES_PER_STEP)):
            pairs = [TextPair(sequence, hypothesis) for sequence in step for hypothesis in hypotheses]
            logits = np.stack(list(pipe.stream(pairs, batch_size=options.batch_size)))
            for index, sequence in enumerate(step):
                rows = logits[index * len(labels):(index + 1) * len(labels)]
                yield self.answer(sequence, labels, rows, multi_label=settings["multi_label"])
