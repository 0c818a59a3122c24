"""Exports stand alone: export, delete the source checkpoint, then use the export."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import assert_same_answers
from tf_pipeline import (SavedModelPipeline, TFLitePipeline, convert_to_tflite, export_saved_model, load_pipeline,
                         verify_export)

CLI = str(Path(sys.executable).parent / "tf-pipeline")
TEXTS = ["the film was wonderful", "a dull and tired sequel", "東京 is lovely 😀", "Not bad at all!"]


@pytest.fixture(scope="module")
def orphans(tiny_checkpoint, tmp_path_factory):
    """A SavedModel and a .tflite file made from a checkpoint that is then deleted, and its answers."""
    checkpoint = tmp_path_factory.mktemp("doomed") / "checkpoint"
    shutil.copytree(tiny_checkpoint("bert")[0], checkpoint)
    pipe = load_pipeline(checkpoint)
    expected = pipe(TEXTS, top_k=None)
    export = export_saved_model(pipe, tmp_path_factory.mktemp("exports") / "tiny")
    tflite = convert_to_tflite(pipe, tmp_path_factory.mktemp("lite") / "tiny.tflite")
    shutil.rmtree(checkpoint)
    return {"export": export, "tflite": tflite, "expected": expected, "source": str(checkpoint)}


def test_a_savedmodel_carries_its_tokenizer_and_config(orphans):
    carried = {path.name for path in (orphans["export"] / "assets" / "tokenizer").iterdir()}
    assert {"config.json", "tokenizer_config.json", "vocab.txt"} <= carried
    metadata = json.loads((orphans["export"] / "assets.extra" / "tf_pipeline.json").read_text())
    assert metadata["schema_version"] == 3 and metadata["source"] == orphans["source"]  # provenance only


def test_an_orphaned_savedmodel_classifies_alone(orphans):
    assert_same_answers(SavedModelPipeline(orphans["export"])(TEXTS, top_k=None), orphans["expected"])
    by_base_folder = load_pipeline(orphans["export"].parent)  # the latest version
    assert isinstance(by_base_folder, SavedModelPipeline)
    assert_same_answers(by_base_folder(TEXTS, top_k=None), orphans["expected"])


def test_an_orphaned_savedmodel_verifies_against_itself(orphans):
    report = verify_export(orphans["export"], tf_serving="2.15")
    assert report.ok, str(report)
    assert any("predict_ids on the ids of the tokenizer it carries" in note for note in report.notes)


def test_cli_predicts_with_an_export_alone(orphans):
    done = subprocess.run([CLI, "predict", "--model", str(orphans["export"]), *TEXTS], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [answer["label"] for answer in answers] == [ranked[0]["label"] for ranked in orphans["expected"]]
    refused = subprocess.run([CLI, "predict", "--model", str(orphans["export"]), "--max-length", "8", "hi"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "is an export; --max-length 8 cannot change it" in refused.stderr


@pytest.mark.parametrize("flavour", ["ids", pytest.param("strings", marks=pytest.mark.slow)])
def test_an_orphaned_savedmodel_converts_to_tflite(orphans, tmp_path, flavour):
    path = convert_to_tflite(SavedModelPipeline(orphans["export"]), tmp_path / "from_export.tflite", flavour=flavour)
    assert_same_answers(TFLitePipeline(path)(TEXTS, top_k=None), orphans["expected"], atol=1e-4)


def test_a_tflite_file_carries_everything(orphans, tmp_path):
    moved = tmp_path / "elsewhere" / "model.tflite"
    moved.parent.mkdir()
    shutil.copy(orphans["tflite"], moved)
    assert not Path(f"{moved}.json").exists()
    names = zipfile.ZipFile(moved).namelist()
    assert {"tf_pipeline.json", "labels.txt", "tokenizer/vocab.txt", "tokenizer/config.json"} <= set(names)
    lite = load_pipeline(moved)
    assert isinstance(lite, TFLitePipeline)
    assert_same_answers(lite(TEXTS, top_k=None), orphans["expected"], atol=1e-4)


@pytest.mark.slow
def test_cli_converts_an_orphaned_export(orphans, tmp_path):
    output = tmp_path / "cli.tflite"
    done = subprocess.run([CLI, "convert", "--saved-model", str(orphans["export"]), "--output", str(output),
                           "--eval-data", str(write_labelled(tmp_path))], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["top1_agreement"] == 1.0 and report["max_probability_difference"] < 1e-4


def write_labelled(folder: Path) -> Path:
    path = folder / "labelled.jsonl"
    path.write_text("".join(json.dumps({"text": text, "label": "LABEL_0"}) + "\n" for text in TEXTS))
    return path


def test_an_ids_in_export_tokenizes_with_the_tokenizer_it_carries(tiny_checkpoint, tmp_path):
    checkpoint = tmp_path / "left-padding"
    shutil.copytree(tiny_checkpoint("bert")[0], checkpoint)
    config = json.loads((checkpoint / "tokenizer_config.json").read_text())
    (checkpoint / "tokenizer_config.json").write_text(json.dumps({**config, "padding_side": "left"}))
    pipe = load_pipeline(checkpoint)  # left padding: no in-graph form, so the export takes ids
    expected = pipe(TEXTS, top_k=None)
    export = export_saved_model(pipe, tmp_path / "ids")
    shutil.rmtree(checkpoint)
    served = SavedModelPipeline(export)
    assert served.metadata.text_in is False and served.tokenizer.padding_side == "left"
    assert_same_answers(served(TEXTS, top_k=None), expected)
