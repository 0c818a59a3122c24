"""Classify with a SavedModel export alone: no checkpoint, no transformers model.

Strings-in exports run ``serving_default`` on the raw texts; ids-in exports (tokenizers with no
in-graph form) tokenize with the HF tokenizer the export carries in ``assets/tokenizer/``.

Example:
    >>> pipe = SavedModelPipeline("saved_models/sentiment")      # the latest version
    >>> pipe(["I love it"])
    [{'label': 'POSITIVE', 'score': 0.97}]
"""

from __future__ import annotations

import os
from functools import cached_property

import numpy as np
import tensorflow as tf

from tf_pipeline import errors
from tf_pipeline.export.layout import latest_version_dir, load_export_tokenizer, read_metadata
from tf_pipeline.pipeline.base import Classifier, validate_texts
from tf_pipeline.pipeline.outputs import scores
from tf_pipeline.tokenizers.hf import encode


class SavedModelPipeline(Classifier):
    """A SavedModel export (a version folder, or a base folder: its latest version) as a pipeline."""

    def __init__(self, export_dir: str | os.PathLike):
        import tensorflow_text  # noqa: F401  (registers the in-graph tokenizer's ops)

        self.export_dir = latest_version_dir(export_dir)
        self.metadata = read_metadata(self.export_dir)
        self.labels = list(self.metadata.labels)
        self.max_length = self.metadata.max_length
        self.input_names = tuple(self.metadata.input_names)
        self.model_type = self.metadata.model_type
        self.source = str(self.export_dir)
        self.loaded = tf.saved_model.load(str(self.export_dir))

    @cached_property
    def tokenizer(self):
        """The HF tokenizer the export carries (loaded when first needed)."""
        return load_export_tokenizer(self.export_dir)

    def preprocess(self, texts) -> dict[str, tf.Tensor]:
        """The texts themselves (strings-in) or token ids from the carried tokenizer."""
        batch = validate_texts(texts)
        if self.metadata.text_in:
            return {"text": tf.constant(batch)}
        encoded = encode(self.tokenizer, batch, self.max_length, "np")
        return {name: tf.constant(encoded[name].astype(np.int32)) for name in self.input_names}

    def forward(self, inputs: dict[str, tf.Tensor]) -> tf.Tensor:
        """Logits from ``serving_default`` (texts) or ``predict_ids`` (ids)."""
        if "text" in inputs:
            return self.loaded.signatures["serving_default"](text=inputs["text"])["logits"]
        return self.loaded.signatures["predict_ids"](**{name: inputs[name] for name in self.input_names})["logits"]

    def plain_logits(self, ids: dict[str, tf.Tensor]) -> tf.Tensor:
        """ids → logits without chunking, for conversion to TFLite."""
        if not hasattr(self.loaded, "logits"):
            raise errors.UnsupportedModelError(
                f"{self.export_dir} was exported before exports could be converted on their own; export it again."
            )
        return self.loaded.logits(ids)

    def scores(self, logits, function_to_apply: str | None = None) -> tf.Tensor:
        return scores(logits, function_to_apply or self.metadata.function_to_apply)
