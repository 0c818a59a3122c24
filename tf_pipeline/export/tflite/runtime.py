"""Run a converted .tflite file with the pipeline's call and answers, on ai-edge-litert, for any task.

The file carries its task, its settings and its tokenizer (:mod:`tf_pipeline.export.tflite.files`),
so nothing else is needed; files from before that read their ``.tflite.json`` and need
``tokenizer=`` (or their source checkpoint) for the ids flavour.

Example:
    >>> lite = TFLitePipeline("saved_models/sentiment.tflite", num_threads=2)   # doctest: +SKIP
    >>> lite(["I love it", "I hate it"])                                       # doctest: +SKIP
    [{'label': 'POSITIVE', 'score': 0.97...}, {'label': 'NEGATIVE', 'score': 0.98...}]
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from tf_pipeline import errors
from tf_pipeline.export.layout import PAIRS_SIGNATURE
from tf_pipeline.export.tflite.files import extract_tokenizer, read_metadata
from tf_pipeline.runners.base import Outputs, Runner
from tf_pipeline.runners.forward import ATTENTION_BUDGET, sorted_chunks
from tf_pipeline.tasks.inputs import ModelInput, TextPair, has_pairs, validate_inputs
from tf_pipeline.tokenizers.hf import encode, token_sorted_batches


ROWS_PER_CALL = 32  # interpreter calls of more rows ran slower (docs/tflite.md, "Speed tuning")


class TFLitePipeline(Runner):
    """A .tflite file with the TF pipeline's call and answers.

    Args:
        path: the .tflite file (``tf-pipeline convert`` writes it).
        tokenizer: the HF tokenizer for an ids-in file that carries none (older files).
        num_threads: interpreter threads; default the cores this process may use (LiteRT's own
            default ran single-threaded, docs/benchmark.md).

    Raises:
        CheckpointNotFoundError: no such file.
        TokenizerNotFoundError: an ids-in file without a tokenizer, and none given.
    """

    def __init__(self, path: str | os.PathLike, *, tokenizer=None, num_threads: int | None = None):
        from ai_edge_litert.interpreter import InterpreterWithCustomOps

        self.path = Path(path)
        self.metadata = read_metadata(self.path)
        self.task = self.metadata.make_task()
        self.source = str(self.path)
        self.model_type = self.metadata.model_type
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
        self.runners = {name: self.interpreter.get_signature_runner(name) for name in self.interpreter.get_signature_list()}

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

    def preprocess(self, texts: str | list[ModelInput], *, max_length: int | None = None) -> dict[str, np.ndarray]:
        """Token ids (ids flavour; text pairs too) or the UTF-8 texts themselves (strings flavour, at the
        file's length; a batch of text pairs as its ``serving_pairs`` signature takes them).

        Raises:
            InvalidInputError: for a strings-in file (its tokenizer is fixed), a shorter ``max_length``,
                or pairs it has no signature for (or mixed with single texts in one batch).
        """
        batch = validate_inputs(texts, pairs=self.task.reads_pairs)
        limit = self.token_limit(max_length)
        if self.strings_in:
            if limit != self.max_length:
                raise errors.InvalidInputError(
                    f"{self.path} tokenizes inside the file to {self.max_length} tokens; it cannot cut texts to "
                    f"{limit}. Convert an ids-in file for that.")
            if not has_pairs(batch):
                return {"text": _utf8(batch)}
            if PAIRS_SIGNATURE not in self.runners or not all(isinstance(item, TextPair) for item in batch):
                raise errors.InvalidInputError(
                    f"{self.path} tokenizes inside the file and reads a batch of single texts"
                    + (" or a batch of text pairs, not both at once." if PAIRS_SIGNATURE in self.runners
                       else "; it has no text-pair signature. Convert it again, or an ids-in file (--flavour ids)."))
            return {"text": _utf8([item.text for item in batch]), "text_pair": _utf8([item.text_pair for item in batch])}
        encoded = encode(self.tokenizer, batch, limit, "np")
        return {name: encoded[name].astype(np.int32) for name in self.input_names}

    def batches(self, window: list[ModelInput], batch_size: int, max_length: int | None = None
                ) -> Iterator[tuple[list[int], dict[str, np.ndarray]]]:
        """:meth:`Runner.batches`; the ids flavour sorts by token count (:func:`token_sorted_batches`)."""
        if self.strings_in:
            return super().batches(window, batch_size, max_length)
        return token_sorted_batches(self.tokenizer, window, batch_size, self.token_limit(max_length), self.input_names)

    def forward(self, inputs: dict[str, Any]) -> Outputs:
        """The task's outputs. A batch runs in calls of at most :data:`ROWS_PER_CALL` rows (larger calls
        ran slower) and, over the attention budget, in length-sorted row chunks within it."""
        if self.strings_in:
            return self._in_row_slices({name: inputs[name] for name in ("text", "text_pair") if name in inputs})
        missing = [name for name in self.input_names if name not in inputs]
        if missing:
            raise errors.InvalidInputError(f"forward needs {', '.join(self.input_names)}; missing {', '.join(missing)}.")
        ids = {name: np.asarray(inputs[name], np.int32) for name in self.input_names}
        mask = ids.get("attention_mask")
        if mask is None or (len(mask) <= ROWS_PER_CALL and fits_one_chunk(mask.shape)):
            return self._in_row_slices(ids)
        outputs = sorted_chunks(self._run, ids, self.task.output_specs(), self.task.token_outputs,
                                padding_slack=math.inf, max_rows=ROWS_PER_CALL)
        return {name: value.numpy() for name, value in outputs.items()}

    def _in_row_slices(self, inputs: dict[str, np.ndarray]) -> Outputs:
        rows = len(next(iter(inputs.values())))
        parts = [self._run({name: part[start:start + ROWS_PER_CALL] for name, part in inputs.items()})
                 for start in range(0, max(rows, 1), ROWS_PER_CALL)]
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

    def _run(self, inputs: dict) -> Outputs:
        runner = self.runners[PAIRS_SIGNATURE if "text_pair" in inputs else "serving_default"]
        outputs = runner(**{name: np.asarray(part) for name, part in inputs.items()})
        return {name: outputs[name] for name in self.task.output_specs()}


def _utf8(texts: list[str]) -> np.ndarray:
    return np.array([text.encode("utf-8") for text in texts], dtype=object)


def fits_one_chunk(shape: tuple[int, ...], budget: int = ATTENTION_BUDGET) -> bool:
    """Whether a ``[rows, length]`` batch is within the attention budget, so the chunker has nothing to cut.

    Example:
        >>> fits_one_chunk((32, 64)), fits_one_chunk((128, 128))
        (True, False)
    """
    rows, length = shape
    return rows * length * length <= budget
