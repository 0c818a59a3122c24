"""The contract every task keeps, and the call forms the tasks share.

A task is a frozen dataclass holding what one model needs to be answered for (its labels, its
pooling, ...). It is made from a checkpoint (:meth:`Task.from_checkpoint`) or from an export's
metadata (:meth:`Task.from_settings`), so every runtime answers with the same settings.

In the graph (traced into the forward, the SavedModel signatures and the TFLite files):

- :meth:`Task.model_outputs`: the one model call and what the graph returns for a batch;
- :meth:`Task.output_specs`: those outputs' dtypes and shapes (the chunker carries any of them);
- :meth:`Task.graph_answers`: the exported signatures' outputs, post-processing included.

Eagerly, on the NumPy outputs every runner's ``forward`` returns:

- :meth:`Task.options`: a call's keyword arguments, checked;
- :meth:`Task.postprocess`: one answer per row;
- :meth:`Task.call`: HF's call forms (one input, a list, a generator) around the runner's ``stream``.

Example:
    >>> from tf_pipeline.tasks import task_class
    >>> task = task_class("text-classification").from_settings({"labels": ["NEG", "POS"], "function_to_apply": "softmax"})
    >>> task.postprocess({"logits": np.array([[0.0, 2.0]])}, top_k=1)[0][0]["label"]
    'POS'
"""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterator

import numpy as np

from tf_pipeline import errors
from tf_pipeline.tasks.inputs import is_positive_int, is_stream, validate_inputs

if TYPE_CHECKING:  # pragma: no cover
    import tensorflow as tf

DEFAULT_BATCH_SIZE = 32


@dataclass(frozen=True)
class CallOptions:
    """A call's keyword arguments, sorted by the step that uses them.

    ``postprocess``: passed to :meth:`Task.postprocess`; ``answer``: to :meth:`Task.format` and
    :meth:`Task.collect`; ``max_length``: tokenize to at most this many tokens (None: the runner's
    limit); ``batch_size``: texts per forward pass; ``progress``: a progress bar on stderr.
    """

    postprocess: dict = field(default_factory=dict)
    answer: dict = field(default_factory=dict)
    max_length: int | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    progress: bool = False


@dataclass(frozen=True)
class Task(abc.ABC):
    """What a task is, wherever it runs. Subclasses are frozen dataclasses of JSON-able settings."""

    name: ClassVar[str]  # HF's task name
    model_class: ClassVar[str]  # the transformers TF auto class it loads
    token_outputs: ClassVar[frozenset[str]] = frozenset()  # outputs shaped [batch, length, ...]
    reads_first_token: ClassVar[bool] = False  # the head reads position 0 of the last layer only
    classify_signature: ClassVar[bool] = False  # exports add TF Serving's classify signature
    reads_pairs: ClassVar[bool] = False  # takes text pairs as well as texts (tasks.inputs.TextPair)
    not_exportable: ClassVar[str | None] = None  # why exports refuse this task (None: they take it)
    record_fields: ClassVar[dict[str, str]] = {}  # what a scored record holds: field → "string", "float", "vector" or "strings"
    input_fields: ClassVar[tuple[str, ...]] = ("text",)  # what a call reads per input ("text_pair" too: pairs)

    # --- made from a checkpoint or from an export's metadata -------------------------------------

    @classmethod
    @abc.abstractmethod
    def from_checkpoint(cls, config, folder: str | Path | None = None) -> "Task":
        """The task's settings for the model in ``folder`` with this ``config``."""

    @classmethod
    def from_settings(cls, settings: dict) -> "Task":
        """The task as :meth:`settings` recorded it (an export's metadata)."""
        known = {item.name for item in dataclasses.fields(cls)}
        try:
            return cls(**{key: tuple(value) if isinstance(value, list) else value
                          for key, value in settings.items() if key in known})
        except TypeError as error:
            raise errors.BrokenCheckpointError(f"{cls.name} settings {settings} are incomplete: {error}") from None

    def settings(self) -> dict:
        """The settings as JSON-able values, for an export's metadata."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in dataclasses.asdict(self).items()}

    def check_exportable(self) -> None:
        """:class:`UnsupportedModelError` saying why, for a task that has no export yet (before any work)."""
        if self.not_exportable:
            raise errors.UnsupportedModelError(self.not_exportable)

    @property
    def max_length(self) -> int | None:
        """The longest input this task's model is meant for (None: the model's own limit)."""
        return None

    # --- in the graph ---------------------------------------------------------------------------

    @abc.abstractmethod
    def output_specs(self) -> dict[str, "tf.TensorSpec"]:
        """dtype and shape (batch axis first) of each output of :meth:`model_outputs`."""

    @abc.abstractmethod
    def model_outputs(self, model, inputs: dict[str, "tf.Tensor"]) -> dict[str, "tf.Tensor"]:
        """The model called on one batch of ``[batch, length]`` ids, and what the graph keeps of it."""

    @abc.abstractmethod
    def graph_answers(self, outputs: dict[str, "tf.Tensor"], valid: "tf.Tensor | None" = None) -> dict[str, "tf.Tensor"]:
        """The exported answers: :meth:`model_outputs` and the task's post-processing, in TensorFlow.

        ``valid`` (bool per row) marks rows that had text: a served batch cannot raise for one blank
        row, so an invalid row answers zeros (and an empty label) and the output ``valid`` says which.
        """

    def classify_outputs(self, answers: dict[str, "tf.Tensor"]) -> dict[str, "tf.Tensor"]:
        """``classes`` and ``scores`` for TF Serving's Classification API (tasks with :attr:`classify_signature`)."""
        raise NotImplementedError(f"{self.name} has no classify signature.")

    def request_signatures(self, predict_pairs) -> dict:
        """Signatures of the task's own for a strings-in export, replacing ``serving_default`` on texts
        (zero-shot: sequences and candidate labels in). ``predict_pairs``: ``(text, text_pair) →`` this
        task's :meth:`graph_answers` in the graph, or None when the tokenizer has no in-graph pair form.
        Default: none (the export's standard signatures)."""
        return {}

    def serving_requests(self, texts) -> dict[str, dict]:
        """Per signature of :meth:`request_signatures`, a request of ``texts`` (warm-up and ``verify``)."""
        return {}

    def request_answers(self, pipe, request: dict) -> dict[str, np.ndarray]:
        """What a signature of :meth:`request_signatures` answers for ``request``, computed eagerly by ``pipe``."""
        raise NotImplementedError(f"{self.name} has no signatures of its own.")

    # --- eagerly --------------------------------------------------------------------------------

    @abc.abstractmethod
    def options(self, **kwargs) -> CallOptions:
        """A call's keyword arguments, checked; :class:`InvalidInputError` names any it does not take."""

    @abc.abstractmethod
    def postprocess(self, outputs: dict[str, np.ndarray], **options) -> list:
        """One answer per row of ``outputs`` (NumPy arrays, as every runner's ``forward`` returns them)."""

    def records(self, outputs: dict[str, np.ndarray]) -> list[dict]:
        """One JSON-able record per row (:attr:`record_fields`), what ``tf-pipeline score`` writes per text."""
        raise NotImplementedError(f"{self.name} has no records for batch scoring yet.")

    def score_options(self, kwargs: dict) -> dict:
        """The call arguments ``score`` answers every record with (zero-shot: the candidate labels),
        checked before a job starts. Default: none taken."""
        refuse_unknown(f"scoring with {self.name}", kwargs, ())
        return {}

    def score(self, pipe, inputs: list, options: dict) -> list[dict]:
        """One record per input (a text, or a :class:`~tf_pipeline.tasks.inputs.TextPair`), what
        ``tf-pipeline score`` writes: :meth:`records` of the runner's outputs (``options``: :meth:`score_options`'s)."""
        return self.records(pipe.run(inputs))

    def format(self, answer: Any, **options) -> Any:
        """One input's answer as the call returns it (default: as :meth:`postprocess` made it)."""
        return answer

    def collect(self, answers: list, inputs: Any, call_kwargs: dict, **options) -> Any:
        """The call's return value: one input's answer, or (``inputs`` a list or tuple) the list of
        them. ``call_kwargs``: the keyword arguments of this call itself (not the pipeline's defaults)."""
        return answers if is_batch(inputs) else answers[0]

    def call(self, pipe, inputs: Any, kwargs: dict, defaults: dict | None = None, args: tuple = ()) -> Any:
        """Answer ``inputs`` (one text, a list of them, or a generator: answered lazily) with ``pipe``.

        Args:
            pipe: the runner (any runtime).
            inputs: one text, a list or tuple of texts, or any other iterable of texts (and text
                pairs in HF's forms where the task :attr:`reads_pairs`).
            kwargs: this call's keyword arguments.
            defaults: the keyword arguments the pipeline was made with; the call's own win.
            args: positional arguments after ``inputs`` (none, but for tasks that take them).

        Returns:
            What HF's pipeline of this task returns for these inputs (a generator for a generator).

        Example:
            >>> task.call(pipe, ["good", "bad"], {"batch_size": 8})  # doctest: +SKIP
        """
        if args:
            raise errors.InvalidInputError(f"{self.name} takes its inputs and keyword arguments; got extra "
                                           f"positional arguments {args!r}.")
        options = self.options(**{**(defaults or {}), **kwargs})

        def answers(texts) -> Iterator:
            for answer in pipe.stream(texts, batch_size=options.batch_size, max_length=options.max_length,
                                      **options.postprocess):
                yield self.format(answer, **options.answer)

        if is_stream(inputs):
            return answers(inputs)
        texts = validate_inputs(inputs, pairs=self.reads_pairs)
        done = answers(texts)
        if options.progress:
            import sys

            from tqdm import tqdm

            done = tqdm(done, total=len(texts), unit="text", file=sys.stderr)
        return self.collect(list(done), inputs, kwargs, **options.answer)


def is_batch(inputs: Any) -> bool:
    """A call's ``inputs`` are several (a list or tuple), not one text or pair."""
    return isinstance(inputs, (list, tuple))


def batch_size_option(value: Any) -> int:
    """A call's ``batch_size``, checked."""
    if not is_positive_int(value):
        raise errors.InvalidInputError(f"batch_size must be a positive integer, got {value!r}.")
    return value


def tokenizer_max_length(*, truncation: Any = None, max_length: Any = None, padding: Any = None) -> int | None:
    """The token limit a call's tokenizer settings ask for (None: the runner's own limit).

    ``padding`` changes no answer (each text is answered on its own tokens) and is accepted as HF
    takes it. ``truncation=False`` cannot lift the model's limit: texts longer than the model takes
    are always truncated to it.

    Example:
        >>> tokenizer_max_length(truncation=True, max_length=16), tokenizer_max_length(truncation=False, max_length=16)
        (16, None)
    """
    if padding not in (None, True, False, "longest", "max_length", "do_not_pad"):
        raise errors.InvalidInputError(f"padding must be True, False, 'longest', 'max_length' or 'do_not_pad', got {padding!r}.")
    if truncation not in (None, True, False, "longest_first", "only_first", "only_second", "do_not_truncate"):
        raise errors.InvalidInputError(f"truncation must be True, False or a truncation strategy, got {truncation!r}.")
    if max_length is None:
        return None
    if not is_positive_int(max_length) or max_length < 2:
        raise errors.InvalidInputError(f"max_length must be an integer ≥ 2, got {max_length!r}.")
    return None if truncation in (False, "do_not_truncate") else max_length


def refuse_unknown(task: str, given: dict, known: tuple[str, ...]) -> None:
    """:class:`InvalidInputError` naming the keyword arguments ``task`` does not take."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
        raise errors.InvalidInputError(f"{task} takes no argument {', '.join(unknown)}; {takes}.")
