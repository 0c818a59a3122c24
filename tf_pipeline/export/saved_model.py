"""SavedModel for TF Serving: raw text in, labels and scores out, in TF Serving's folder layout.

``saved_models/NAME/<version>/`` with three signatures (``serving_default`` strings-in,
``predict_ids`` ids-in, ``classify`` for the Classification API), warm-up requests and
metadata in ``assets.extra/``. Each version is built in a hidden folder beside the target
and renamed into place, so a model server polling ``NAME/`` never sees half a version.

Example:
    >>> version_dir = export_saved_model(load_pipeline(), "saved_models/sentiment")
    >>> version_dir
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
from tf_pipeline.export.layout import METADATA_FILE, TOKENIZER_DIR, WARMUP_FILE, version_numbers, write_tokenizer_files
from tf_pipeline.export.metadata import ExportMetadata, library_versions
from tf_pipeline.export.tflite_graph import dense_as_matmul
from tf_pipeline.pipeline.base import has_text, is_positive_int
from tf_pipeline.pipeline.forward import input_signature, model_logits, plain_logits
from tf_pipeline.pipeline.outputs import default_function, graph_outputs
from tf_pipeline.pipeline.text_classification import TextClassificationPipeline
from tf_pipeline.tokenizers.hf import encode
from tf_pipeline.tokenizers.in_graph import in_graph_tokenizer

logger = logging.getLogger(__name__)

CLASSIFY_METHOD = "tensorflow/serving/classify"
WARMUP_TEXTS = ("I've been waiting for a HuggingFace course my whole life.", "I hate this so much!", "")


class ServingModule(tf.Module):
    """The exported graph: tokenizer (when it has an in-graph form), model, and step 3's outputs."""

    def __init__(self, pipe: TextClassificationPipeline, max_length: int):
        super().__init__(name="tf_pipeline")
        self.model = pipe.model
        self.input_names = pipe.input_names
        self.function = default_function(pipe.config)
        self.labels = tf.constant(pipe.labels)
        self.text_tokenizer = in_graph_tokenizer(pipe.tokenizer, max_length)
        # Plain ids → logits (no chunking): what `convert --saved-model` turns into TFLite, traced as
        # the TFLite converter of a checkpoint traces it (dense layers as matmul: tflite_graph).
        with dense_as_matmul():  # saved as this one trace (a tf.function would be traced again when saved)
            self.logits = tf.function(self._logits).get_concrete_function(input_signature(self.input_names))

    def _logits(self, ids: dict[str, tf.Tensor]) -> tf.Tensor:
        return plain_logits(self.model, ids)

    def outputs(self, ids: dict[str, tf.Tensor], valid: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """label, score, probabilities and logits (and ``valid`` for text); empty batch, empty outputs.

        Rows run length-sorted in chunks (:func:`forward.sorted_chunk_logits`), so batches of
        mixed lengths, such as TF Serving's batching builds, pay little padding.
        """
        logits = model_logits(self.model, {name: ids[name] for name in self.input_names})
        return graph_outputs(logits, self.function, self.labels, valid)

    def predict_text(self, text: tf.Tensor) -> dict[str, tf.Tensor]:
        """Blank rows (empty or whitespace only) answer label "", score 0 and ``valid`` false."""
        return self.outputs(self.text_tokenizer(text), has_text(text))

    def predict_ids(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return self.outputs({name: tf.cast(value, tf.int32) for name, value in inputs.items()})

    def classify(self, inputs: tf.Tensor) -> dict[str, tf.Tensor]:
        features = tf.io.parse_example(inputs, {"text": tf.io.FixedLenFeature([], tf.string, default_value="")})
        outputs = self.predict_text(features["text"])
        batch = tf.shape(inputs)[0]
        return {"classes": tf.tile(self.labels[tf.newaxis], [batch, 1]), "scores": outputs["probabilities"]}

    def signatures(self) -> dict:
        signatures = {"predict_ids": tf.function(self.predict_ids).get_concrete_function(
            input_signature(self.input_names))}
        if self.text_tokenizer is None:
            signatures["serving_default"] = signatures["predict_ids"]
            return signatures
        signatures["serving_default"] = tf.function(self.predict_text).get_concrete_function(
            tf.TensorSpec([None], tf.string, name="text")
        )
        signatures["classify"] = tf.function(self.classify).get_concrete_function(
            tf.TensorSpec([None], tf.string, name="inputs")
        )
        return signatures


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


def export_saved_model(
    pipe: TextClassificationPipeline,
    base_dir: str | os.PathLike,
    *,
    version: int | None = None,
    max_length: int | None = None,
    overwrite: bool = False,
    warmup_texts: Sequence[str] = WARMUP_TEXTS,
) -> Path:
    """Write ``base_dir/<version>/`` for TF Serving and return that folder.

    ``version`` defaults to the next free number; an existing version is replaced only
    with ``overwrite=True``. ``max_length`` (default: the pipeline's) truncates in the graph.
    """
    base = check_base_dir(base_dir)
    version = next_version(base) if version is None else version
    if not is_positive_int(version):
        raise errors.InvalidInputError(f"version must be a positive integer, got {version!r}.")
    target = base / str(version)
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
            format="saved_model", labels=pipe.labels, function_to_apply=module.function, max_length=max_length,
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
        request.inputs["text"].CopyFrom(tf.make_tensor_proto(list(texts), dtype=tf.string))
    else:
        encoded = encode(pipe.tokenizer, texts, pipe.max_length, "np")
        for name in pipe.input_names:
            request.inputs[name].CopyFrom(tf.make_tensor_proto(encoded[name].astype("int32")))
    with tf.io.TFRecordWriter(str(path)) as writer:
        log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
        writer.write(log.SerializeToString())
