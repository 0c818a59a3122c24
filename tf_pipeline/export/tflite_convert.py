"""TFLite conversion (float32, float16, dynamic-range int8, full int8) into one self-contained file.

Two flavours, both with dynamic batch and length, returning ``logits`` and ``probabilities``
(step 3 from :mod:`tf_pipeline.pipeline.outputs`):

- ``ids``: takes ``input_ids``/``attention_mask`` (/``token_type_ids``); TFLite builtins only.
- ``strings``: takes ``text``; tokenizes inside the model with tensorflow_text's TFLite kernels
  (FastBertNormalizer, FastWordpieceTokenizer, RaggedTensorToTensor), which the interpreter
  must register (``tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS``). WordPiece only.

The source is a pipeline (a checkpoint) or a SavedModel export (:class:`SavedModelPipeline`), so an
export converts after its checkpoint is gone. The file carries its metadata, labels and tokenizer
(:mod:`tf_pipeline.export.tflite_files`).

Example:
    >>> convert_to_tflite(load_pipeline(), "saved_models/sentiment.tflite", quantize="dynamic-int8")
    >>> TFLitePipeline("saved_models/sentiment.tflite")("I love it")
    [{'label': 'POSITIVE', 'score': 0.97}]
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Sequence

import tensorflow as tf

from tf_pipeline import errors
from tf_pipeline.atomic import atomic_file
from tf_pipeline.export.layout import copy_tokenizer_files, write_tokenizer_files
from tf_pipeline.export.metadata import ExportMetadata, library_versions
from tf_pipeline.export.saved_model_runtime import SavedModelPipeline
from tf_pipeline.export.tflite_files import pack
from tf_pipeline.export.tflite_graph import dense_as_matmul
from tf_pipeline.export.tflite_tables import quantize_tables_per_column, saved_model_matrices
from tf_pipeline.pipeline.forward import input_signature, plain_logits
from tf_pipeline.pipeline.outputs import default_function, graph_outputs
from tf_pipeline.pipeline.text_classification import TextClassificationPipeline

logger = logging.getLogger(__name__)

QUANTIZATIONS = ("none", "float16", "dynamic-int8", "int8")
FLAVOURS = ("ids", "strings")
Source = TextClassificationPipeline | SavedModelPipeline


class IdsModule(tf.Module):
    """Token ids → logits and probabilities: the part of the pipeline that TFLite builtins run."""

    def __init__(self, logits: Callable, function_to_apply: str, input_names: Sequence[str], weights):
        super().__init__(name="tf_pipeline_ids")
        self.weights = weights  # the object holding the variables ``logits`` reads, so the saver tracks them
        self.logits = logits
        self.function = function_to_apply
        self.input_names = tuple(input_names)

    def serve(self, inputs):
        return graph_outputs(self.logits(inputs), self.function)

    def signature(self):
        return tf.function(self.serve).get_concrete_function(input_signature(self.input_names))


class StringsModule(IdsModule):
    """Text → the TFLite-compatible WordPiece tokenizer → logits and probabilities."""

    def __init__(self, logits: Callable, function_to_apply: str, input_names: Sequence[str], weights, tokenizer,
                 max_length: int):
        super().__init__(logits, function_to_apply, input_names, weights)
        from tf_pipeline.tokenizers.wordpiece import LiteWordPieceGraphTokenizer, wordpiece_settings

        settings = wordpiece_settings(tokenizer)
        if settings is None:
            raise errors.UnsupportedModelError(
                f"{type(tokenizer).__name__} has no TFLite kernels in tensorflow_text (only BERT-style "
                "WordPiece has); convert with flavour='ids' (--flavour ids) and tokenize in the app."
            )
        self.text_tokenizer = LiteWordPieceGraphTokenizer(settings, max_length)

    def serve_text(self, text):
        ids = self.text_tokenizer(text)
        return self.serve({name: ids[name] for name in self.input_names})

    def signature(self):
        return tf.function(self.serve_text).get_concrete_function(tf.TensorSpec([None], tf.string, name="text"))


def convert_to_tflite(
    source: Source,
    output: str | os.PathLike,
    *,
    quantize: str = "none",
    flavour: str = "ids",
    representative_texts: Sequence[str] | None = None,
) -> Path:
    """Convert a pipeline or a SavedModel export to one self-contained .tflite file, written atomically.

    ``quantize``: "none" (float32), "float16", "dynamic-int8" (int8 weights) or "int8" (int8
    weights and activations, calibrated on ``representative_texts``, which int8 needs).
    """
    _check_options(quantize, flavour, representative_texts)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    logits, function, weights = _logits_function(source)
    if flavour == "strings":
        module = StringsModule(logits, function, source.input_names, weights, source.tokenizer, source.max_length)
    else:
        module = IdsModule(logits, function, source.input_names, weights)
    with tempfile.TemporaryDirectory() as workdir:
        saved_model = Path(workdir) / "saved_model"
        with dense_as_matmul():  # no run-time shape arithmetic around dense layers (tflite_graph)
            signature = module.signature()
        tf.saved_model.save(module, str(saved_model), signatures={"serving_default": signature})
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
        converter.allow_custom_ops = flavour == "strings"  # tensorflow_text's kernels
        _configure(converter, quantize, source, representative_texts)
        flatbuffer = converter.convert()
        if quantize == "dynamic-int8":
            flatbuffer = quantize_tables_per_column(flatbuffer, saved_model_matrices(saved_model))
        metadata = ExportMetadata(
            format="tflite", labels=list(source.labels), function_to_apply=function, max_length=source.max_length,
            input_names=list(source.input_names), text_in=flavour == "strings", model_type=source.model_type,
            source=str(source.source), quantize=quantize, libraries=library_versions(),
        )
        tokenizer_dir = _save_tokenizer(source, Path(workdir) / "tokenizer")
        with atomic_file(output, "wb") as file:
            file.write(pack(flatbuffer, metadata, tokenizer_dir))
    return output


def _check_options(quantize: str, flavour: str, representative_texts) -> None:
    if quantize not in QUANTIZATIONS:
        raise errors.InvalidInputError(f"quantize must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}.")
    if flavour not in FLAVOURS:
        raise errors.InvalidInputError(f"flavour must be one of {', '.join(FLAVOURS)}, got {flavour!r}.")
    if flavour == "strings" and quantize == "int8":
        # The converter's calibrator cannot load tensorflow_text's custom ops.
        raise errors.InvalidInputError(
            "int8 calibration cannot run the strings flavour's tokenizer ops; use flavour='ids' for int8, "
            "or quantize='dynamic-int8' for strings."
        )
    if quantize == "int8" and not representative_texts:
        raise errors.InvalidInputError(
            "int8 calibrates activations on sample texts: pass representative_texts (a few hundred typical "
            "texts; the CLI uses the shipped sentiment set unless --calibration-data is given)."
        )


def _logits_function(source: Source) -> tuple[Callable, str, object]:
    """Plain ids → logits (no chunking, which TFLite does not need), step 3's function, and what holds
    the weights."""
    if isinstance(source, SavedModelPipeline):
        return source.plain_logits, source.metadata.function_to_apply, source.loaded
    model = source.model
    return (lambda ids: plain_logits(model, ids)), default_function(source.config), model


def _save_tokenizer(source: Source, folder: Path) -> Path:
    """The tokenizer files and config.json, which the .tflite file carries."""
    if isinstance(source, SavedModelPipeline):
        return copy_tokenizer_files(source.export_dir, folder)
    return write_tokenizer_files(source, folder)


def _configure(converter, quantize: str, source: Source, texts: Sequence[str] | None) -> None:
    if quantize == "none":
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        converter.representative_dataset = lambda: _calibration_batches(source, texts)


def _calibration_batches(source: Source, texts: Sequence[str]) -> Iterable[dict]:
    """Token ids, one text at a time (int8 is refused for the strings flavour)."""
    from tf_pipeline.tokenizers.hf import encode

    for text in texts:
        inputs = encode(source.tokenizer, [text], source.max_length, "np")
        yield {name: inputs[name].astype("int32") for name in source.input_names}
