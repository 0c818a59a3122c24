"""TFLite conversion (float32, float16, dynamic-range int8, full int8) into one self-contained file.

Two flavours, both with dynamic batch and length, returning the task's numeric answers
(:meth:`~tf_pipeline.tasks.base.Task.graph_answers`: ``logits`` and ``probabilities`` for text
classification, ``embedding`` for sentence embeddings, ...):

- ``ids``: takes ``input_ids``/``attention_mask`` (/``token_type_ids``); TFLite builtins only.
- ``strings``: takes ``text``; tokenizes inside the model with tensorflow_text's TFLite kernels
  (FastBertNormalizer, FastWordpieceTokenizer, RaggedTensorToTensor), which the interpreter
  must register (``tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS``). WordPiece only.

The source is a pipeline (a checkpoint) or a SavedModel export (:class:`SavedModelPipeline`), so an
export converts after its checkpoint is gone. The file carries its metadata, labels and tokenizer
(:mod:`tf_pipeline.export.tflite.files`).

Example:
    >>> convert_to_tflite(load_pipeline(), "saved_models/sentiment.tflite", quantize="dynamic-int8")  # doctest: +SKIP
    >>> TFLitePipeline("saved_models/sentiment.tflite")("I love it")                               # doctest: +SKIP
    [{'label': 'POSITIVE', 'score': 0.97...}]
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Callable, Iterable, Sequence

import tensorflow as tf

from tf_pipeline import errors
from tf_pipeline.atomic import atomic_file
from tf_pipeline.export.layout import PAIRS_SIGNATURE, copy_tokenizer_files, write_tokenizer_files
from tf_pipeline.export.metadata import ExportMetadata, library_versions
from tf_pipeline.export.saved_model.runtime import SavedModelPipeline
from tf_pipeline.export.tflite.files import pack
from tf_pipeline.export.tflite.graph import dense_as_matmul
from tf_pipeline.export.tflite.tables import quantize_tables_per_column, saved_model_matrices
from tf_pipeline.export.runtimes import FLAVOURS, QUANTIZATIONS
from tf_pipeline.runners.forward import input_signature, plain_outputs
from tf_pipeline.runners.graph import GraphPipeline
from tf_pipeline.tasks.base import Task

logger = logging.getLogger(__name__)

Source = GraphPipeline | SavedModelPipeline


def numeric_answers(task: Task, outputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """The task's graph answers that a .tflite file returns: the numeric ones (no label strings)."""
    return {name: value for name, value in task.graph_answers(outputs).items() if value.dtype != tf.string}


class IdsModule(tf.Module):
    """Token ids → the task's numeric answers: the part of the pipeline that TFLite builtins run."""

    def __init__(self, outputs: Callable, task: Task, input_names: Sequence[str], weights):
        super().__init__(name="tf_pipeline_ids")
        self.weights = weights  # the object holding the variables ``outputs`` reads, so the saver tracks them
        self.outputs = outputs
        self.task = task
        self.input_names = tuple(input_names)

    def serve(self, inputs):
        return numeric_answers(self.task, self.outputs(inputs))

    def signatures(self) -> dict:
        return {"serving_default": tf.function(self.serve).get_concrete_function(input_signature(self.input_names))}


class StringsModule(IdsModule):
    """Text (or text pairs) → the TFLite-compatible WordPiece tokenizer → the task's numeric answers."""

    def __init__(self, outputs: Callable, task: Task, input_names: Sequence[str], weights, tokenizer,
                 max_length: int):
        super().__init__(outputs, task, input_names, weights)
        from tf_pipeline.tokenizers.wordpiece import LiteWordPieceGraphTokenizer, wordpiece_settings

        settings = wordpiece_settings(tokenizer)
        if settings is None:
            raise errors.UnsupportedModelError(
                f"{type(tokenizer).__name__} has no TFLite kernels in tensorflow_text (only BERT-style "
                f"WordPiece has); convert with {errors.option('flavour', 'ids')} and tokenize in the app."
            )
        self.text_tokenizer = LiteWordPieceGraphTokenizer(settings, max_length)

    def serve_text(self, text):
        ids = self.text_tokenizer(text)
        return self.serve({name: ids[name] for name in self.input_names})

    def serve_pairs(self, text, text_pair):
        ids = self.text_tokenizer.pairs(text, text_pair)
        return self.serve({name: ids[name] for name in self.input_names})

    def signatures(self) -> dict:
        """``serving_default`` (text) and, for a task that reads pairs, ``serving_pairs`` (text, text_pair)."""
        text = tf.TensorSpec([None], tf.string, name="text")
        signatures = {"serving_default": tf.function(self.serve_text).get_concrete_function(text)}
        if self.task.reads_pairs and self.text_tokenizer.pair is not None:
            signatures[PAIRS_SIGNATURE] = tf.function(self.serve_pairs).get_concrete_function(
                text, tf.TensorSpec([None], tf.string, name="text_pair"))
        return signatures


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
    check_options(quantize, flavour, representative_texts)
    source.task.check_exportable()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    outputs, weights = _outputs_function(source)
    if flavour == "strings":
        module = StringsModule(outputs, source.task, source.input_names, weights, source.tokenizer, source.max_length)
    else:
        module = IdsModule(outputs, source.task, source.input_names, weights)
    with tempfile.TemporaryDirectory() as workdir:
        saved_model = Path(workdir) / "saved_model"
        with dense_as_matmul():  # no run-time shape arithmetic around dense layers (tflite_graph)
            signatures = module.signatures()
        tf.saved_model.save(module, str(saved_model), signatures=signatures)
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
        converter.allow_custom_ops = flavour == "strings"  # tensorflow_text's kernels
        _configure(converter, quantize, source, representative_texts)
        with warnings.catch_warnings():  # int8 calibration runs tf.lite.Interpreter, which warns that it is deprecated
            warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
            flatbuffer = converter.convert()
        if quantize == "dynamic-int8":
            flatbuffer = quantize_tables_per_column(flatbuffer, saved_model_matrices(saved_model))
        metadata = ExportMetadata(
            format="tflite", task=source.task.name, task_settings=source.task.settings(), max_length=source.max_length,
            input_names=list(source.input_names), text_in=flavour == "strings", model_type=source.model_type,
            source=str(source.source), quantize=quantize, libraries=library_versions(),
        )
        tokenizer_dir = _save_tokenizer(source, Path(workdir) / "tokenizer")
        with atomic_file(output, "wb") as file:
            file.write(pack(flatbuffer, metadata, tokenizer_dir))
    return output


def check_options(quantize: str, flavour: str, representative_texts: Sequence[str] | None) -> None:
    """An error for a quantization or flavour :func:`convert_to_tflite` cannot make (checked before any work)."""
    if quantize not in QUANTIZATIONS:
        raise errors.InvalidInputError(f"quantize must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}.")
    if flavour not in FLAVOURS:
        raise errors.InvalidInputError(f"flavour must be one of {', '.join(FLAVOURS)}, got {flavour!r}.")
    if flavour == "strings" and quantize == "int8":
        # The converter's calibrator cannot load tensorflow_text's custom ops.
        raise errors.InvalidInputError(
            f"int8 calibration cannot run the strings flavour's tokenizer ops; use {errors.option('flavour', 'ids')} "
            f"for int8, or {errors.option('quantize', 'dynamic-int8')} for strings."
        )
    if quantize == "int8" and not representative_texts:
        raise errors.InvalidInputError(
            "int8 calibrates activations on sample texts: pass representative_texts (a few hundred typical "
            "texts; the command line uses the shipped sentiment set unless --calibration-data is given)."
        )


def _outputs_function(source: Source) -> tuple[Callable, object]:
    """Plain ids → the task's outputs (no chunking, which TFLite does not need), and what holds the weights."""
    if isinstance(source, SavedModelPipeline):
        return source.plain_outputs, source.loaded
    model, task = source.model, source.task
    return (lambda ids: plain_outputs(model, task, ids)), model


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
