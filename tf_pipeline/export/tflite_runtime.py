"""Run a converted .tflite file with the pipeline's call and answers, on ai-edge-litert.

The file carries its labels and tokenizer (:mod:`tf_pipeline.export.tflite_files`), so nothing
else is needed; files from before that read their ``.tflite.json`` and need ``tokenizer=`` (or
their source checkpoint) for the ids flavour.

Example:
    >>> lite = TFLitePipeline("saved_models/sentiment.tflite", num_threads=2)
    >>> lite(["I love it", "I hate it"])
    [{'label': 'POSITIVE', 'score': 0.97}, {'label': 'NEGATIVE', 'score': 0.98}]
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from tf_pipeline import errors
from tf_pipeline.export.tflite_files import extract_tokenizer, read_metadata
from tf_pipeline.pipeline.base import Classifier, validate_texts
from tf_pipeline.pipeline.forward import ATTENTION_BUDGET, sorted_chunk_logits
from tf_pipeline.pipeline.outputs import scores
from tf_pipeline.tokenizers.hf import encode, token_sorted_batches


ROWS_PER_CALL = 32  # interpreter calls of more rows ran slower (docs/tflite.md, "Speed tuning")


class TFLitePipeline(Classifier):
    """A .tflite classifier with the TF pipeline's call and output format.

    ``num_threads`` defaults to the cores this process may use: LiteRT's own default (``None``) ran
    single-threaded here, at ~0.6× the speed on 2 cores (docs/benchmark.md).
    """

    def __init__(self, path: str | os.PathLike, *, tokenizer=None, num_threads: int | None = None):
        from ai_edge_litert.interpreter import InterpreterWithCustomOps

        self.path = Path(path)
        self.metadata = read_metadata(self.path)
        self.labels = list(self.metadata.labels)
        self.max_length = self.metadata.max_length
        self.input_names = tuple(self.metadata.input_names)
        self.strings_in = self.metadata.text_in
        self.tokenizer = tokenizer if tokenizer is not None or self.strings_in else self._carried_tokenizer()
        registerers = []
        if self.strings_in:
            import tensorflow_text

            registerers = tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS
        self.num_threads = num_threads or len(os.sched_getaffinity(0))
        self.interpreter = InterpreterWithCustomOps(
            custom_op_registerers=registerers, model_path=str(self.path), num_threads=self.num_threads
        )
        self.runner = self.interpreter.get_signature_runner("serving_default")

    def _carried_tokenizer(self):
        from tf_pipeline.checkpoints.loading import load_tokenizer

        with tempfile.TemporaryDirectory() as folder:
            if extract_tokenizer(self.path, folder):
                return load_tokenizer(Path(folder))
        if self.metadata.source and Path(self.metadata.source).is_dir():  # files from before it was packed
            return load_tokenizer(Path(self.metadata.source))
        raise errors.TokenizerNotFoundError(
            f"{self.path} carries no tokenizer and its source checkpoint is gone; pass tokenizer= or convert it again."
        )

    def preprocess(self, texts) -> dict[str, np.ndarray]:
        """Token ids (ids flavour) or the UTF-8 texts themselves (strings flavour)."""
        batch = validate_texts(texts)
        if self.strings_in:
            return {"text": np.array([text.encode("utf-8") for text in batch], dtype=object)}
        encoded = encode(self.tokenizer, batch, self.max_length, "np")
        return {name: encoded[name].astype(np.int32) for name in self.input_names}

    def batches(self, window: list[str], batch_size: int) -> Iterator[tuple[list[int], dict[str, np.ndarray]]]:
        """:meth:`Classifier.batches`; the ids flavour sorts by token count (:func:`token_sorted_batches`)."""
        if self.strings_in:
            return super().batches(window, batch_size)
        return token_sorted_batches(self.tokenizer, window, batch_size, self.max_length, self.input_names)

    def forward(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Logits. A batch runs in calls of at most :data:`ROWS_PER_CALL` rows (larger calls ran slower)
        and, over the attention budget, in length-sorted row chunks within it."""
        if self.strings_in:
            return self._in_row_slices({"text": inputs["text"]})
        ids = {name: np.asarray(inputs[name], np.int32) for name in self.input_names}
        mask = ids.get("attention_mask")
        if mask is None or (len(mask) <= ROWS_PER_CALL and fits_one_chunk(mask.shape)):
            return self._in_row_slices(ids)
        return sorted_chunk_logits(self._run, ids, len(self.labels), padding_slack=math.inf,
                                   max_rows=ROWS_PER_CALL).numpy()

    def _in_row_slices(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        rows = len(next(iter(inputs.values())))
        return np.concatenate([self._run({name: part[start:start + ROWS_PER_CALL] for name, part in inputs.items()})
                               for start in range(0, max(rows, 1), ROWS_PER_CALL)])

    def _run(self, inputs: dict) -> np.ndarray:
        return self.runner(**{name: np.asarray(part) for name, part in inputs.items()})["logits"]

    def scores(self, logits, function_to_apply: str | None = None) -> np.ndarray:
        """Step 3 in NumPy (the same functions as :func:`~tf_pipeline.pipeline.outputs.scores`)."""
        return numpy_scores(np.asarray(logits, np.float32), function_to_apply or self.metadata.function_to_apply)


def fits_one_chunk(shape: tuple[int, ...], budget: int = ATTENTION_BUDGET) -> bool:
    """Whether a ``[rows, length]`` batch is within the attention budget, so the chunker has nothing to cut.

    Example:
        >>> fits_one_chunk((32, 64)), fits_one_chunk((128, 128))
        (True, False)
    """
    rows, length = shape
    return rows * length * length <= budget


def numpy_scores(logits: np.ndarray, function_to_apply: str) -> np.ndarray:
    """Softmax or sigmoid over the last axis, or the logits ("none"); NumPy, without TF's per-op dispatch.

    Example:
        >>> numpy_scores(np.array([[0.0, 0.0]]), "softmax")
        array([[0.5, 0.5]])
    """
    function = str(getattr(function_to_apply, "value", function_to_apply)).lower()
    if function == "softmax":
        exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return exp / exp.sum(axis=-1, keepdims=True)
    if function == "sigmoid":
        return np.exp(-np.logaddexp(0.0, -logits))  # 1 / (1 + e^-x) without overflow
    if function == "none":
        return logits
    return scores(logits, function).numpy()  # raises the pipeline's error for an unknown name
