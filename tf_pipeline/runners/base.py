"""The runner contract: what every runtime (the TF graph, a SavedModel export, a .tflite file) provides,
and what they share on top of it: streaming in length-sorted batches and HF's call forms.

A runner holds a :class:`~tf_pipeline.tasks.base.Task`. It provides ``preprocess`` (texts → its
inputs) and ``forward`` (inputs → the task's outputs as NumPy arrays, one return type for every
runtime); the task turns those into answers (``postprocess``) and knows the call forms.

Example:
    >>> pipe = pipeline("text-classification", model="path/to/checkpoint")   # doctest: +SKIP
    >>> outputs = pipe.run(["good", "bad"])          # {"logits": array [2, num_labels]}  # doctest: +SKIP
    >>> pipe.postprocess(outputs, top_k=None)        # ranked labels per text  # doctest: +SKIP
    >>> pipe(["good", "bad"])                        # the same, in HF's shapes  # doctest: +SKIP
"""

from __future__ import annotations

import abc
from itertools import islice
from typing import Any, Iterable, Iterator

import numpy as np

from tf_pipeline import errors
from tf_pipeline.tasks.base import Task
from tf_pipeline.tasks.inputs import ModelInput, characters, check_input, is_positive_int

SORT_WINDOW = 16  # batches read ahead and sorted by length (bounded memory, less padding)
Outputs = dict[str, np.ndarray]


class Runner(abc.ABC):
    """A task's model on one runtime: ``preprocess`` → ``forward`` → ``postprocess``, and HF's ``__call__``.

    Subclasses set ``task``, ``max_length`` (the longest input, in tokens) and ``source``, and
    provide :meth:`preprocess` and :meth:`forward`.
    """

    task: Task
    max_length: int
    source: str
    defaults: dict = {}

    @abc.abstractmethod
    def preprocess(self, texts: str | list[str], *, max_length: int | None = None) -> dict[str, Any]:
        """Step 1: texts → this runtime's inputs (token ids, or the strings themselves)."""

    @abc.abstractmethod
    def forward(self, inputs: dict[str, Any]) -> Outputs:
        """Step 2: inputs → the task's outputs (``task.output_specs()``'s names), NumPy arrays in row order."""

    @property
    def labels(self) -> list[str]:
        """The label names in logit order (text classification; [] for tasks without labels)."""
        return list(getattr(self.task, "labels", ()))

    def postprocess(self, outputs: Outputs, **options) -> list:
        """Step 3: one answer per row (:meth:`Task.postprocess`; ``options`` are the task's)."""
        return self.task.postprocess(outputs, **options)

    def run(self, texts: str | list[str], *, max_length: int | None = None) -> Outputs:
        """Steps 1 and 2 on one batch: ``forward(preprocess(texts))``.

        Example:
            >>> pipe.run(["good", "bad"])["logits"].shape      # doctest: +SKIP
            (2, 2)
        """
        return self.forward(self.preprocess(texts, max_length=max_length))

    def token_limit(self, max_length: int | None) -> int:
        """The length to tokenize to: ``max_length`` (checked) but never above this runner's own limit."""
        if max_length is None:
            return self.max_length
        if not is_positive_int(max_length) or max_length < 2:
            raise errors.InvalidInputError(f"max_length must be an integer ≥ 2, got {max_length!r}.")
        return min(max_length, self.max_length)

    def set_defaults(self, **options) -> "Runner":
        """Keyword arguments every call uses unless it gives its own, as HF takes them when a pipeline is made.

        Example:
            >>> pipe.set_defaults(top_k=None)("good")       # doctest: +SKIP
            [{'label': 'POSITIVE', 'score': 0.98...}, {'label': 'NEGATIVE', 'score': 0.01...}]
        """
        self.task.options(**options)  # refuses what the task does not take
        self.defaults = {**self.defaults, **options}
        return self

    def batches(self, window: list[ModelInput], batch_size: int, max_length: int | None = None) -> Iterator[tuple[list[int], Any]]:
        """The window's texts in batches of similar length: (their indices in ``window``, their inputs).

        Sorted by characters here; a runner that tokenizes in Python sorts by tokens instead.

        Example:
            >>> [indices for indices, _ in pipe.batches(["a long text", "short", "mid text"], 2)]  # doctest: +SKIP
            [[1, 2], [0]]
        """
        order = sorted(range(len(window)), key=lambda index: characters(window[index]))
        for start in range(0, len(window), batch_size):
            indices = order[start:start + batch_size]
            yield indices, self.preprocess([window[index] for index in indices], max_length=max_length)

    def stream(self, texts: Iterable[ModelInput], *, batch_size: int = 32, sort_window: int = SORT_WINDOW,
               max_length: int | None = None, **options) -> Iterator:
        """Yield each text's answer (:meth:`postprocess`'s, with ``options``) in input order, reading ``texts`` lazily.

        ``texts``: strings, and where the task reads pairs, :class:`~tf_pipeline.tasks.inputs.TextPair`
        or ``{"text", "text_pair"}`` dicts too.

        Within each window of ``sort_window`` batches, texts are batched by length, so a batch pads
        to similar lengths instead of to the longest text among random neighbours; ``sort_window=1``
        keeps the input order in every batch. Memory holds one window of texts, however long the input.

        Example:
            >>> for ranked in pipe.stream(read_texts("big.txt"), batch_size=64):   # doctest: +SKIP
            ...     print(ranked[0]["label"])
        """
        if not is_positive_int(batch_size) or not is_positive_int(sort_window):
            raise errors.InvalidInputError(
                f"batch_size and sort_window must be positive integers, got {batch_size!r}, {sort_window!r}.")
        max_length = self.token_limit(max_length)
        iterator = (check_input(index, text, pairs=self.task.reads_pairs) for index, text in enumerate(texts))
        while window := list(islice(iterator, batch_size * sort_window)):
            answers: list = [None] * len(window)
            for indices, inputs in self.batches(window, batch_size, max_length):
                for index, answer in zip(indices, self.postprocess(self.forward(inputs), **options)):
                    answers[index] = answer
            yield from answers

    def __call__(self, inputs: Any, *args, **kwargs) -> Any:
        """Answer one text, a list of texts or a generator of them as HF's pipeline of this task does.

        The keyword arguments are the task's (:meth:`Task.options`), e.g. ``top_k`` and
        ``function_to_apply`` for text classification, ``normalize_embeddings`` for sentence embeddings,
        and ``batch_size`` for all; zero-shot classification also takes its candidate labels second, as HF.
        """
        return self.task.call(self, inputs, kwargs, self.defaults, args)

