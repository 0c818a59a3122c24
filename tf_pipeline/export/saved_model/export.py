"""SavedModel for TF Serving: raw text in, a task's answers out, in TF Serving's folder layout.

``saved_models/NAME/<version>/`` with the signatures ``serving_default`` (strings in), ``predict_ids``
(token ids in) and, for text classification, ``classify`` (the Classification API), warm-up
requests and metadata in ``assets.extra/``. What the signatures answer is the task's
(:meth:`~tf_pipeline.tasks.base.Task.graph_answers`: labels and scores, embeddings, ...), post-
processing included. Each version is built in a hidden folder beside the target and renamed into
place, so a model server polling ``NAME/`` never sees half a version.

Example:
    >>> version_dir = export_saved_model(load_pipeline(), "saved_models/sentiment")   # doctest: +SKIP
    >>> version_dir                                                                  # doctest: +SKIP
    PosixPath('saved_models/sentiment/1')
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import tensorflow as tf

from tf_pipeline import errors
from tf_pipeline.atomic import atomic_folder
from tf_pipeline.export.layout import (METADATA_FILE, PAIRS_SIGNATURE, TOKENIZER_DIR, WARMUP_FILE, version_numbers,
                                       write_tokenizer_files)
from tf_pipeline.export.metadata import ExportMetadata, library_versions
from tf_pipeline.export.tflite.graph import dense_as_matmul
from tf_pipeline.runners.forward import input_signature, model_outputs, plain_outputs
from tf_pipeline.runners.graph import GraphPipeline
from tf_pipeline.tasks.inputs import has_text, is_positive_int
from tf_pipeline.tokenizers.hf import encode
from tf_pipeline.tokenizers.in_graph import in_graph_tokenizer

logger = logging.getLogger(__name__)

CLASSIFY_METHOD = "tensorflow/serving/classify"
WARMUP_TEXTS = ("I've been waiting for a HuggingFace course my whole life.", "I hate this so much!", "")


class ServingModule(tf.Module):
    """The exported graph: tokenizer (when it has an in-graph form), model, and the task's answers."""

    def __init__(self, pipe: GraphPipeline, max_length: int):
        super().__init__(name="tf_pipeline")
        self.model = pipe.model
        self.task = pipe.task
        self.input_names = pipe.input_names
        self.text_tokenizer = in_graph_tokenizer(pipe.tokenizer, max_length)
        # Plain ids → the task's outputs (no chunking): what `convert --saved-model` turns into TFLite,
        # traced as the TFLite converter of a checkpoint traces it (dense layers as matmul), and saved
        # as this one trace (a tf.function would be traced again when saved).
        with dense_as_matmul():
            self.model_outputs = tf.function(self._plain_outputs).get_concrete_function(input_signature(self.input_names))

    def _plain_outputs(self, ids: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return plain_outputs(self.model, self.task, ids)

    def answers(self, ids: dict[str, tf.Tensor], valid: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """The task's answers (and ``valid`` for text); an empty batch gives empty outputs.

        Rows run length-sorted in chunks (:func:`forward.sorted_chunks`), so batches of mixed
        lengths, such as TF Serving's batching builds, pay little padding.
        """
        outputs = model_outputs(self.model, self.task, {name: ids[name] for name in self.input_names})
        return self.task.graph_answers(outputs, valid)

    def predict_text(self, text: tf.Tensor) -> dict[str, tf.Tensor]:
        """Blank rows (empty or whitespace only) answer zeros (an empty label) and ``valid`` false."""
        return self.answers(self.text_tokenizer(text), has_text(text))

    def predict_pairs(self, text: tf.Tensor, text_pair: tf.Tensor) -> dict[str, tf.Tensor]:
        """Text pairs, tokenized as ``tokenizer(text, text_pair)``; a row with either text blank is not valid."""
        return self.answers(self.text_tokenizer.pairs(text, text_pair), has_text(text) & has_text(text_pair))

    def predict_ids(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return self.answers({name: tf.cast(value, tf.int32) for name, value in inputs.items()})

    def classify(self, inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        """TF Serving's Classification API: serialized ``tf.Example`` s with a ``text`` feature (and, with a
        pair template, an optional ``text_pair`` one: rows that have it are read as pairs)."""
        features = tf.io.parse_example(inputs, {name: tf.io.FixedLenFeature([], tf.string, default_value="")
                                                for name in ("text", "text_pair")})
        text = features["text"]
        if not self.reads_pairs:
            return self.task.classify_outputs(self.predict_text(text))
        paired = has_text(features["text_pair"])
        ids = tf.cond(tf.reduce_any(paired),  # single-text requests tokenize once
                      lambda: _rows_from(paired, self.text_tokenizer.pairs(text, features["text_pair"]),
                                         self.text_tokenizer(text), self.text_tokenizer.pad_id),
                      lambda: self.text_tokenizer(text))
        return self.task.classify_outputs(self.answers(ids, has_text(text)))

    @property
    def reads_pairs(self) -> bool:
        """Text pairs in the graph: a task that reads them and a tokenizer with a pair template."""
        return self.task.reads_pairs and self.text_tokenizer is not None and self.text_tokenizer.pair is not None

    def signatures(self) -> dict:
        signatures = {"predict_ids": tf.function(self.predict_ids).get_concrete_function(
            input_signature(self.input_names))}
        if self.text_tokenizer is None:
            signatures["serving_default"] = signatures["predict_ids"]
            return signatures
        signatures["serving_default"] = tf.function(self.predict_text).get_concrete_function(
            tf.TensorSpec([None], tf.string, name="text"))
        if self.reads_pairs:
            signatures[PAIRS_SIGNATURE] = tf.function(self.predict_pairs).get_concrete_function(
                tf.TensorSpec([None], tf.string, name="text"), tf.TensorSpec([None], tf.string, name="text_pair"))
        signatures.update(self.task.request_signatures(self.predict_pairs if self.reads_pairs else None))
        if self.task.classify_signature:
            signatures["classify"] = tf.function(self.classify).get_concrete_function(
                tf.TensorSpec([None], tf.string, name="inputs"))
        return signatures


def _rows_from(chosen: tf.Tensor, first: dict[str, tf.Tensor], second: dict[str, tf.Tensor], pad_id: int) -> dict:
    """Per row, ``first``'s ids where ``chosen``, else ``second``'s, both padded to the wider of them."""
    width = tf.maximum(tf.shape(first["input_ids"])[1], tf.shape(second["input_ids"])[1])
    rows = {}
    for name in first:
        fill = pad_id if name == "input_ids" else 0
        a, b = (tf.pad(x[name], [[0, 0], [0, width - tf.shape(x[name])[1]]], constant_values=fill) for x in (first, second))
        rows[name] = tf.where(chosen[:, tf.newaxis], a, b)
    return rows


def next_version(base_dir: Path) -> int:
    """One more than the highest numbered version folder (1 for none)."""
    return max(version_numbers(base_dir), default=0) + 1


def check_base_dir(base_dir: str | os.PathLike) -> Path:
    """``base_dir`` as a Path, or an error if it or a parent is a file (checked before any work)."""
    base = Path(base_dir)
    blocking = next((folder for folder in (base, *base.parents) if folder.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise errors.InvalidInputError(f"{blocking} is a file; the export needs a folder there (e.g. saved_models/NAME).")
    return base


def check_target(base: Path, version: int, overwrite: bool) -> Path:
    """The version folder to write, checked before any work: a positive version, not there yet
    unless ``overwrite``.

    Example:
        >>> check_target(Path("/tmp/nothing-here"), 1, False)
        PosixPath('/tmp/nothing-here/1')
    """
    if not is_positive_int(version):
        raise errors.InvalidInputError(f"version must be a positive integer (a TF Serving version folder), got {version!r}.")
    target = base / str(version)
    if target.exists() and not overwrite:
        raise errors.InvalidInputError(
            f"{target} already exists; choose another version, leave it out for the next free one "
            f"({next_version(base)}), or replace it with {errors.option('overwrite')}.")
    return target


def export_saved_model(
    pipe: GraphPipeline,
    base_dir: str | os.PathLike,
    *,
    version: int | None = None,
    max_length: int | None = None,
    overwrite: bool = False,
    warmup_texts: Sequence[str] = WARMUP_TEXTS,
) -> Path:
    """Write ``base_dir/<version>/`` for TF Serving and return that folder.

    Args:
        pipe: the TF-graph pipeline of a checkpoint, for any task.
        base_dir: the model's base folder (TF Serving's ``--model_base_path``).
        version: the version number (default: the next free one).
        max_length: truncate texts in the graph to this many tokens (default: the pipeline's).
        overwrite: replace an existing version.
        warmup_texts: the texts of TF Serving's warm-up request.

    Returns:
        The version folder.

    Raises:
        InvalidInputError: a bad version, an existing version without ``overwrite``, or a file in the way.
    """
    pipe.task.check_exportable()
    base = check_base_dir(base_dir)
    version = next_version(base) if version is None else version
    target = check_target(base, version, overwrite)
    max_length = pipe.max_length if max_length is None else min(max_length, pipe.max_length)
    module = ServingModule(pipe, max_length)
    if module.text_tokenizer is None:
        logger.warning(
            "%s has no in-graph equivalent (WordPiece, SentencePiece Unigram and byte-level BPE have one); "
            "serving_default takes token ids (%s), and there is no classify signature.", type(pipe.tokenizer).__name__,
            ", ".join(pipe.input_names),
        )
    with atomic_folder(target, overwrite=overwrite) as staging:
        signatures = module.signatures()
        tf.saved_model.save(module, str(staging), signatures=signatures)
        if "classify" in signatures:
            _set_method_name(staging, "classify", CLASSIFY_METHOD)
        write_tokenizer_files(pipe, staging / TOKENIZER_DIR)
        extra = staging / "assets.extra"
        extra.mkdir()
        metadata = ExportMetadata(
            format="saved_model", task=pipe.task.name, task_settings=pipe.task.settings(), max_length=max_length,
            input_names=list(pipe.input_names), text_in=module.text_tokenizer is not None,
            model_type=pipe.config.model_type, source=pipe.source, signatures=sorted(signatures), version=version,
            libraries=library_versions(),
        )
        (extra / METADATA_FILE).write_text(metadata.to_json(), encoding="utf-8")
        write_warmup_requests(extra / WARMUP_FILE, base.name, module, pipe, warmup_texts)
    logger.info("Exported %s", target)
    return target


def _set_method_name(export_dir: Path, signature: str, method_name: str) -> None:
    """TF2's saver writes every signature as predict; TF Serving's classify API wants its own method name."""
    from tensorflow.core.protobuf import saved_model_pb2

    path = export_dir / "saved_model.pb"
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(path.read_bytes())
    for meta_graph in saved_model.meta_graphs:
        meta_graph.signature_def[signature].method_name = method_name
    path.write_bytes(saved_model.SerializeToString())


def write_warmup_requests(path: Path, model_name: str, module: ServingModule, pipe, texts: Sequence[str]) -> None:
    """TF Serving warm-up: PredictionLog records (tensorflow-serving-api protos) in a TFRecord file."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name=model_name, signature_name="serving_default"))
    if module.text_tokenizer is not None:
        inputs = module.task.serving_requests(texts).get("serving_default", {"text": list(texts)})
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    else:
        encoded = encode(pipe.tokenizer, texts, pipe.max_length, "np")
        for name in pipe.input_names:
            request.inputs[name].CopyFrom(tf.make_tensor_proto(encoded[name].astype("int32")))
    with tf.io.TFRecordWriter(str(path)) as writer:
        log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
        writer.write(log.SerializeToString())
