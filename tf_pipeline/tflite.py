"""TFLite conversion (float32, float16, dynamic-range int8, full int8) and a LiteRT runner.

Two flavours, both with dynamic batch and length, returning ``logits`` and ``probabilities``:

- ``ids``: takes ``input_ids``/``attention_mask`` (/``token_type_ids``); TFLite builtins only.
- ``strings``: takes ``text``; tokenizes inside the model with tensorflow_text's TFLite kernels
  (FastBertNormalizer, FastWordpieceTokenizer, RaggedTensorToTensor), which the interpreter
  must register (``tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS``). WordPiece only.

A JSON file beside the model (``model.tflite.json``) holds the labels, max_length, flavour and
source checkpoint, so :class:`TFLitePipeline` answers like the TF pipeline.

Example:
    >>> convert_to_tflite(load_pipeline(), "saved_models/sentiment.tflite", quantize="dynamic-int8")
    >>> TFLitePipeline("saved_models/sentiment.tflite")("I love it")
    [{'label': 'POSITIVE', 'score': 0.97}]
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import tensorflow as tf

from . import errors, graph
from .atomic import atomic_file
from .pipeline import Classifier, TextClassificationPipeline, validate_texts

logger = logging.getLogger(__name__)

QUANTIZATIONS = ("none", "float16", "dynamic-int8", "int8")
FLAVOURS = ("ids", "strings")
CALIBRATION_TEXTS = 200


class IdsModule(tf.Module):
    """Token ids → logits and probabilities: the part of the pipeline that TFLite builtins run."""

    def __init__(self, pipe: TextClassificationPipeline):
        super().__init__(name="tf_pipeline_ids")
        self.model = pipe.model
        self.function = graph.default_function(pipe.config)
        self.input_names = pipe.input_names

    def serve(self, inputs):
        logits = self.model(**inputs, training=False).logits
        return {"logits": logits, "probabilities": graph.scores(logits, self.function)}

    def signature(self):
        spec = {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in self.input_names}
        return tf.function(self.serve).get_concrete_function(spec)


class StringsModule(IdsModule):
    """Text → the TFLite-compatible WordPiece tokenizer → logits and probabilities."""

    def __init__(self, pipe: TextClassificationPipeline):
        super().__init__(pipe)
        from .text_graph import LiteWordPieceGraphTokenizer, wordpiece_settings

        settings = wordpiece_settings(pipe.tokenizer)
        if settings is None:
            raise errors.UnsupportedModelError(
                f"{type(pipe.tokenizer).__name__} has no TFLite kernels in tensorflow_text (only BERT-style "
                "WordPiece has); convert with flavour='ids' (--flavour ids) and tokenize in the app."
            )
        self.text_tokenizer = LiteWordPieceGraphTokenizer(settings, pipe.max_length)

    def serve_text(self, text):
        ids = self.text_tokenizer(text)
        return self.serve({name: ids[name] for name in self.input_names})

    def signature(self):
        return tf.function(self.serve_text).get_concrete_function(tf.TensorSpec([None], tf.string, name="text"))


def convert_to_tflite(
    pipe: TextClassificationPipeline,
    output: str | os.PathLike,
    *,
    quantize: str = "none",
    flavour: str = "ids",
    representative_texts: Sequence[str] | None = None,
) -> Path:
    """Convert ``pipe`` to a .tflite file (written atomically) plus its ``.json`` metadata.

    ``quantize``: "none" (float32), "float16", "dynamic-int8" (int8 weights) or "int8" (int8
    weights and activations, calibrated on ``representative_texts``, default: the shipped
    sentiment training set).
    """
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
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    module = StringsModule(pipe) if flavour == "strings" else IdsModule(pipe)
    with tempfile.TemporaryDirectory() as saved_model:
        tf.saved_model.save(module, saved_model, signatures={"serving_default": module.signature()})
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
        converter.allow_custom_ops = flavour == "strings"  # tensorflow_text's kernels
        _configure(converter, quantize, pipe, representative_texts)
        flatbuffer = converter.convert()
    metadata = {
        "labels": pipe.labels, "function_to_apply": module.function, "max_length": pipe.max_length,
        "input_names": list(pipe.input_names), "source": pipe.source, "quantize": quantize, "flavour": flavour,
        "tensorflow": tf.__version__,
    }
    with atomic_file(Path(f"{output}.json")) as file:
        file.write(json.dumps(metadata, indent=2) + "\n")
    with atomic_file(output, "wb") as file:
        file.write(flatbuffer)
    return output


def _configure(converter, quantize: str, pipe, texts: Sequence[str] | None) -> None:
    if quantize == "none":
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        converter.representative_dataset = lambda: _calibration_batches(pipe, texts)


def _calibration_batches(pipe, texts: Sequence[str] | None) -> Iterable[dict]:
    """Token ids, one text at a time (int8 is refused for the strings flavour)."""
    if texts is None:
        from .data import sentiment_set

        texts = [example.text for example in sentiment_set("train")[:CALIBRATION_TEXTS]]
    for text in texts:
        inputs = pipe.preprocess([text])
        yield {name: inputs[name].numpy() for name in pipe.input_names}


class TFLitePipeline(Classifier):
    """A .tflite classifier with the TF pipeline's call and output format, run by ai-edge-litert.

    The tokenizer is the checkpoint's (``source`` in the metadata, or ``tokenizer``).
    """

    def __init__(self, path: str | os.PathLike, *, tokenizer=None, num_threads: int | None = None):
        from ai_edge_litert.interpreter import InterpreterWithCustomOps

        self.path = Path(path)
        metadata_path = Path(f"{self.path}.json")
        if not self.path.is_file() or not metadata_path.is_file():
            raise errors.CheckpointNotFoundError(f"{self.path} (and its {metadata_path.name}) not found; run convert first.")
        self.metadata = json.loads(metadata_path.read_text())
        self.labels = self.metadata["labels"]
        self.max_length = self.metadata["max_length"]
        self.input_names = tuple(self.metadata["input_names"])
        self.strings_in = self.metadata.get("flavour") == "strings"
        if tokenizer is None and not self.strings_in:
            from .checkpoint import load_tokenizer

            tokenizer = load_tokenizer(Path(self.metadata["source"]))
        self.tokenizer = tokenizer
        registerers = []
        if self.strings_in:
            import tensorflow_text

            registerers = tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS
        self.interpreter = InterpreterWithCustomOps(
            custom_op_registerers=registerers, model_path=str(self.path), num_threads=num_threads
        )
        self.runner = self.interpreter.get_signature_runner("serving_default")

    def preprocess(self, texts) -> dict[str, np.ndarray]:
        """Token ids (ids flavour) or the UTF-8 texts themselves (strings flavour)."""
        batch = validate_texts(texts)
        if self.strings_in:
            return {"text": np.array([text.encode("utf-8") for text in batch], dtype=object)}
        encoded = self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="np")
        return {name: encoded[name].astype(np.int32) for name in self.input_names}

    def forward(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Logits; token ids run in row chunks that bound attention memory (:func:`graph.chunks`)."""
        if self.strings_in:
            return self.runner(text=inputs["text"])["logits"]
        ids = {name: np.asarray(inputs[name], np.int32) for name in self.input_names}
        return np.concatenate([self.runner(**{name: np.asarray(part, np.int32) for name, part in chunk.items()})["logits"]
                               for chunk in graph.chunks(ids)])

    def scores(self, logits, function_to_apply: str | None = None) -> tf.Tensor:
        return graph.scores(tf.constant(logits), function_to_apply or self.metadata["function_to_apply"])


def tflite_report(tflite_pipe: TFLitePipeline, pipe: TextClassificationPipeline, examples) -> dict:
    """Size, agreement with the TF pipeline, and accuracy of both on labelled ``examples``.

    ``examples``: :class:`~tf_pipeline.data.LabelledText` items (e.g. the held-out split).
    """
    from .finetune import evaluate

    texts = [example.text for example in examples]
    ours, theirs = [], []
    for start in range(0, len(texts), 32):
        batch = texts[start:start + 32]
        ours.append(np.asarray(tflite_pipe.scores(tflite_pipe.forward(tflite_pipe.preprocess(batch)))))
        theirs.append(pipe.scores(pipe.forward(pipe.preprocess(batch))).numpy())
    ours, theirs = np.concatenate(ours), np.concatenate(theirs)
    report = {
        "file": str(tflite_pipe.path),
        "quantize": tflite_pipe.metadata["quantize"],
        "size_mb": round(tflite_pipe.path.stat().st_size / 1e6, 2),
        "texts": len(texts),
        "top1_agreement": float(np.mean(ours.argmax(-1) == theirs.argmax(-1))),
        "max_probability_difference": float(np.max(np.abs(ours - theirs))),
    }
    if set(str(example.label) for example in examples) <= set(pipe.labels):
        report["accuracy"] = evaluate(tflite_pipe, examples)["accuracy"]
        report["tf_accuracy"] = evaluate(pipe, examples)["accuracy"]
        report["accuracy_drop_points"] = round(100 * (report["tf_accuracy"] - report["accuracy"]), 2)
        if report["accuracy_drop_points"] > 2:
            logger.warning("%s loses %.1f points of accuracy against the TF pipeline.",
                           report["quantize"], report["accuracy_drop_points"])
    return report
