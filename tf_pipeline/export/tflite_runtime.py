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

import numpy as np
import tensorflow as tf

from tf_pipeline import errors
from tf_pipeline.export.tflite_files import extract_tokenizer, read_metadata
from tf_pipeline.pipeline.base import Classifier, validate_texts
from tf_pipeline.pipeline.forward import sorted_chunk_logits
from tf_pipeline.pipeline.outputs import scores
from tf_pipeline.tokenizers.hf import encode


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

    def forward(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Logits; token ids run in length-sorted row chunks that bound attention memory."""
        if self.strings_in:
            return self.runner(text=inputs["text"])["logits"]
        ids = {name: np.asarray(inputs[name], np.int32) for name in self.input_names}
        if "attention_mask" not in ids:
            return self._run(ids)
        return sorted_chunk_logits(self._run, ids, len(self.labels), padding_slack=math.inf).numpy()

    def _run(self, ids: dict) -> np.ndarray:
        return self.runner(**{name: np.asarray(part, np.int32) for name, part in ids.items()})["logits"]

    def scores(self, logits, function_to_apply: str | None = None) -> tf.Tensor:
        return scores(tf.constant(logits), function_to_apply or self.metadata.function_to_apply)
