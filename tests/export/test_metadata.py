"""One metadata schema for every export: round trip, and files from before the schema had a version."""

import json

import pytest

from tf_pipeline import BrokenCheckpointError, ExportMetadata
from tf_pipeline.export.tflite.files import pack, read_metadata

# What the writers before schema 2 wrote (tf_pipeline 0.x, this repository's history).
OLD_SAVED_MODEL = {
    "labels": ["NEGATIVE", "POSITIVE"], "function_to_apply": "softmax", "max_length": 512, "source": "/gone",
    "model_type": "bert", "version": 1, "signatures": ["classify", "predict_ids", "serving_default"],
    "in_graph_tokenizer": True, "input_names": ["input_ids", "token_type_ids", "attention_mask"],
    "versions": {"tf_pipeline": "0.1.0", "tensorflow": "2.21.0"},
}
OLD_TFLITE = {
    "labels": ["NEGATIVE", "POSITIVE"], "function_to_apply": "softmax", "max_length": 512,
    "input_names": ["input_ids", "attention_mask"], "source": "/gone", "quantize": "dynamic-int8",
    "flavour": "ids", "tensorflow": "2.21.0",
}


def test_round_trip():
    metadata = ExportMetadata(format="tflite", task="sentence-embeddings",
                              task_settings={"pooling": ["mean"], "normalize": True, "dimension": 8, "max_seq_length": 16},
                              max_length=64, input_names=["input_ids"], text_in=False, quantize="float16",
                              libraries={"x": "1"})
    assert ExportMetadata.from_json(metadata.to_json()) == metadata
    assert json.loads(metadata.to_json())["schema_version"] == 3
    assert metadata.make_task().pooling == ("mean",) and metadata.make_task().normalize


def test_schema_2_reads_as_text_classification():
    schema_2 = {**OLD_TFLITE, "format": "tflite", "text_in": False, "schema_version": 2}
    task = ExportMetadata.from_json(json.dumps(schema_2)).make_task()
    assert (task.name, task.labels, task.function_to_apply) == ("text-classification", ("NEGATIVE", "POSITIVE"), "softmax")


def test_files_from_before_the_schema_still_read():
    saved_model = ExportMetadata.from_json(json.dumps(OLD_SAVED_MODEL))
    assert (saved_model.format, saved_model.text_in, saved_model.libraries["tensorflow"]) == ("saved_model", True, "2.21.0")
    assert saved_model.signatures == OLD_SAVED_MODEL["signatures"] and saved_model.schema_version == 1
    tflite = ExportMetadata.from_json(json.dumps(OLD_TFLITE))
    assert (tflite.format, tflite.text_in, tflite.quantize) == ("tflite", False, "dynamic-int8")
    assert saved_model.task == tflite.task == "text-classification"


def test_newer_keys_are_ignored_and_broken_files_named():
    newer = json.loads(ExportMetadata(format="saved_model", task="text-classification",
                                      task_settings={"labels": ["a"], "function_to_apply": "none"}, max_length=8,
                                      input_names=["input_ids"], text_in=True).to_json())
    read = ExportMetadata.from_json(json.dumps({**newer, "schema_version": 4, "added_later": 1}))
    assert read.make_task().labels == ("a",)
    for broken in ("{not json", json.dumps({"labels": ["a"]}), "[]"):
        with pytest.raises(BrokenCheckpointError, match="where.json is not valid tf_pipeline metadata"):
            ExportMetadata.from_json(broken, "where.json")


def test_tflite_metadata_inside_the_file_or_in_the_old_sidecar(tmp_path):
    tokenizer = tmp_path / "tokenizer"
    tokenizer.mkdir()
    (tokenizer / "vocab.txt").write_text("[PAD]\n")
    metadata = ExportMetadata.from_json(json.dumps(OLD_TFLITE))
    packed = tmp_path / "new.tflite"
    packed.write_bytes(pack(b"TFL3 flatbuffer bytes", metadata, tokenizer))
    assert read_metadata(packed) == metadata
    old = tmp_path / "old.tflite"
    old.write_bytes(b"TFL3 flatbuffer bytes")
    (tmp_path / "old.tflite.json").write_text(json.dumps(OLD_TFLITE))
    assert read_metadata(old).quantize == "dynamic-int8"
    (tmp_path / "bare.tflite").write_bytes(b"TFL3")
    with pytest.raises(BrokenCheckpointError, match="carries no tf_pipeline metadata"):
        read_metadata(tmp_path / "bare.tflite")
