"""Answer with a SavedModel export alone: no checkpoint, no transformers model, any task.

Strings-in exports run ``serving_default`` on the raw texts; ids-in exports (tokenizers with no
in-graph form), and calls that ask for fewer tokens than the export was made for, tokenize with
the HF tokenizer the export carries in ``assets/tokenizer/`` and run ``predict_ids``. The task and
its settings come from the export's metadata, so the answers are the checkpoint's.

Example:
    >>> pipe = SavedModelPipeline("saved_models/sentiment")      # the latest version   # doctest: +SKIP
    >>> pipe(["I love it"])                                                            # doctest: +SKIP
    [{'label': 'POSITIVE', 'score': 0.97...}]
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any

import numpy as np
import tensorflow as tf

from tf_pipeline import errors
from tf_pipeline.export.layout import PAIRS_SIGNATURE, latest_version_dir, load_export_tokenizer, read_metadata
from tf_pipeline.runners.base import Outputs, Runner
from tf_pipeline.tasks.inputs import ModelInput, TextPair, has_pairs, validate_inputs
from tf_pipeline.tokenizers.hf import encode


class SavedModelPipeline(Runner):
    """A SavedModel export (a version folder, or a base folder: its latest version) as a pipeline.

    Args:
        export_dir: the version folder, or the base folder (its highest version is used).

    Raises:
        CheckpointNotFoundError: no export there.
        BrokenCheckpointError: its metadata cannot be read.
    """

    def __init__(self, export_dir: str | os.PathLike):
        import tensorflow_text  # noqa: F401  (registers the in-graph tokenizer's ops)

        self.export_dir = latest_version_dir(export_dir)
        self.metadata = read_metadata(self.export_dir)
        self.task = self.metadata.make_task()
        self.max_length = self.metadata.max_length
        self.input_names = tuple(self.metadata.input_names)
        self.model_type = self.metadata.model_type
        self.source = str(self.export_dir)
        self.loaded = tf.saved_model.load(str(self.export_dir))
        self.output_names = tuple(self.task.output_specs())

    @cached_property
    def tokenizer(self):
        """The HF tokenizer the export carries (loaded when first needed)."""
        return load_export_tokenizer(self.export_dir)

    def preprocess(self, texts: str | list[ModelInput], *, max_length: int | None = None) -> dict[str, tf.Tensor]:
        """The texts themselves (strings-in, the export's length; a batch of pairs as ``serving_pairs``
        takes them) or token ids from the carried tokenizer (a batch mixing texts and pairs, or a
        shorter ``max_length``)."""
        batch = validate_inputs(texts, pairs=self.task.reads_pairs)
        limit = self.token_limit(max_length)
        if self.metadata.text_in and limit == self.max_length:
            if not has_pairs(batch):
                return {"text": tf.constant(batch)}
            if PAIRS_SIGNATURE in self.loaded.signatures and all(isinstance(item, TextPair) for item in batch):
                return {"text": tf.constant([item.text for item in batch]),
                        "text_pair": tf.constant([item.text_pair for item in batch])}
        encoded = encode(self.tokenizer, batch, limit, "np")
        return {name: tf.constant(encoded[name].astype(np.int32)) for name in self.input_names}

    def forward(self, inputs: dict[str, Any]) -> Outputs:
        """The task's outputs from ``serving_default`` (texts) or ``predict_ids`` (ids), as NumPy arrays."""
        if "text_pair" in inputs:
            answers = self.loaded.signatures[PAIRS_SIGNATURE](text=tf.convert_to_tensor(inputs["text"], tf.string),
                                                              text_pair=tf.convert_to_tensor(inputs["text_pair"], tf.string))
        elif "text" in inputs:
            answers = self.loaded.signatures["serving_default"](text=tf.convert_to_tensor(inputs["text"], tf.string))
        else:
            missing = [name for name in self.input_names if name not in inputs]
            if missing:
                raise errors.InvalidInputError(f"forward needs {', '.join(self.input_names)}; missing {', '.join(missing)}.")
            answers = self.loaded.signatures["predict_ids"](
                **{name: tf.cast(inputs[name], tf.int32) for name in self.input_names})
        return {name: answers[name].numpy() for name in self.output_names}

    def plain_outputs(self, ids: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """ids → the task's outputs without chunking, for conversion to TFLite."""
        if hasattr(self.loaded, "model_outputs"):
            return self.loaded.model_outputs(ids)
        if hasattr(self.loaded, "logits"):  # exports before the task seam: text classification
            return {"logits": self.loaded.logits(ids)}
        raise errors.UnsupportedModelError(
            f"{self.export_dir} was exported before exports could be converted on their own; export it again.")
