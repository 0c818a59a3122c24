"""What every runner shares (the TF pipeline, an exported SavedModel, a .tflite file): checking
texts, streaming them in length-sorted batches, and answering in HF's format.

Example:
    >>> class MyRunner(Classifier): ...      # provide labels, preprocess, forward, scores
    >>> MyRunner()(["good", "bad"], top_k=None)
"""

from __future__ import annotations

from itertools import islice
from typing import Any, Iterable, Iterator

import tensorflow as tf

from tf_pipeline import errors
from tf_pipeline.pipeline.outputs import Result, ranked

_LEGACY = object()  # "top_k not given": HF then returns one dict per text
SORT_WINDOW = 16  # batches read ahead and sorted by length (bounded memory, less padding)
# What Python's str.isspace() calls whitespace, for RE2 (whose \s is ASCII only).
WHITESPACE = r"[\p{Z}\t\n\x{0b}\f\r\x{1c}-\x{1f}\x{85}]"


class Classifier:
    """``postprocess``, ``stream`` and HF-compatible ``__call__`` on top of the runner's own steps.

    Subclasses provide ``labels``, ``preprocess``, ``forward`` and ``scores``.
    """

    labels: list[str]

    def postprocess(
        self, logits: tf.Tensor, *, top_k: int | None = 1, function_to_apply: str | None = None
    ) -> list[list[Result]]:
        """Per text, ``[{"label", "score"}]`` sorted best first, cut to ``top_k`` (None: all)."""
        if top_k is not None and not is_positive_int(top_k):
            raise errors.InvalidInputError(f"top_k must be a positive integer or None, got {top_k!r}.")
        return ranked(self.scores(logits, function_to_apply), self.labels, top_k)

    def stream(
        self,
        texts: Iterable[str],
        *,
        top_k: int | None = 1,
        function_to_apply: str | None = None,
        batch_size: int = 32,
        sort_window: int = SORT_WINDOW,
    ) -> Iterator[list[Result]]:
        """Yield each text's ranked labels in input order, reading ``texts`` lazily.

        Within each window of ``sort_window`` batches, texts are batched by length, so a batch pads
        to similar lengths instead of to the longest text among random neighbours; ``sort_window=1``
        keeps the input order in every batch. Memory holds one window of texts, however long
        the input.

        Example:
            >>> for ranked in pipe.stream(read_texts("big.txt"), batch_size=64):
            ...     print(ranked[0]["label"])
        """
        if not is_positive_int(batch_size) or not is_positive_int(sort_window):
            raise errors.InvalidInputError(
                f"batch_size and sort_window must be positive integers, got {batch_size!r}, {sort_window!r}."
            )
        iterator = (check_text(index, text) for index, text in enumerate(texts))
        while window := list(islice(iterator, batch_size * sort_window)):
            answers: list = [None] * len(window)
            for indices, inputs in self.batches(window, batch_size):
                results = self.postprocess(self.forward(inputs), top_k=top_k, function_to_apply=function_to_apply)
                for index, result in zip(indices, results):
                    answers[index] = result
            yield from answers

    def batches(self, window: list[str], batch_size: int) -> Iterator[tuple[list[int], Any]]:
        """The window's texts in batches of similar length: (their indices in ``window``, their inputs).

        Sorted by characters here; a runner that tokenizes in Python may sort by tokens instead.

        Example:
            >>> [indices for indices, _ in pipe.batches(["a long text", "short", "mid text"], 2)]
            [[1, 2], [0]]
        """
        order = sorted(range(len(window)), key=lambda index: len(window[index]))
        for start in range(0, len(window), batch_size):
            indices = order[start:start + batch_size]
            yield indices, self.preprocess([window[index] for index in indices])

    def __call__(
        self,
        texts: str | list[str],
        *,
        top_k: int | None = _LEGACY,  # type: ignore[assignment]
        function_to_apply: str | None = None,
        batch_size: int = 32,
    ):
        """Classify one text or a list, returning what HF's ``TextClassificationPipeline`` returns.

        Without ``top_k``: one ``{"label", "score"}`` per text (a one-item list for a single
        string). With ``top_k`` (``None`` = all labels): a sorted list per text (just the list
        for a single string).
        """
        single = isinstance(texts, str)
        batch = validate_texts(texts)
        legacy = top_k is _LEGACY
        answers = list(self.stream(batch, top_k=1 if legacy else top_k,
                                   function_to_apply=function_to_apply, batch_size=batch_size))
        if legacy:
            return [labels[0] for labels in answers]
        return answers[0] if single else answers


def is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def validate_texts(texts: Any) -> list[str]:
    """A list of non-empty strings, or :class:`InvalidInputError` naming the bad item."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)):
        raise errors.InvalidInputError(
            f"texts must be a string or a list of strings, got {type(texts).__name__}."
        )
    return [check_text(index, text) for index, text in enumerate(texts)]


def check_text(index: int | str, text: Any) -> str:
    """``text`` itself if it is a non-blank string; otherwise an error naming it (``text 3``, ``line 4``)."""
    where = f"text {index}" if isinstance(index, int) else index
    if not isinstance(text, str):
        raise errors.InvalidInputError(f"{where} is not a string (got {type(text).__name__}).")
    if not text.strip():
        raise errors.InvalidInputError(f"{where} is empty or only whitespace; there is nothing to classify.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, e.g. from JSON's "\ud800"
        raise errors.InvalidInputError(f"{where} is not valid Unicode ({error.reason} at character {error.start}).") from None
    return text


def has_text(texts: tf.Tensor) -> tf.Tensor:
    """In the graph, which strings :func:`check_text` accepts: not empty and not only whitespace.

    Example:
        >>> has_text(tf.constant(["good", " \\u3000", ""])).numpy()
        array([ True, False, False])
    """
    return tf.logical_not(tf.strings.regex_full_match(texts, WHITESPACE + "*"))
