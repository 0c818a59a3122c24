"""What a newcomer trips on at the command line: each mended, each checked through the real program."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tf_pipeline.runners.text_files import parse_line, read_texts, scan_file
from tf_pipeline.training.data import read_labelled

CLI = str(Path(sys.executable).parent / "tf-pipeline")
FAST = 60  # seconds: a refusal before any model loads is quick even on a busy machine


def run(*args, cwd=None, input=None):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=600, cwd=cwd, input=input,
                          env={**os.environ})


def answers(result) -> list:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.slow
def test_several_input_files_and_no_mixing_with_texts(tiny_checkpoint, tmp_path):
    folder = tiny_checkpoint("bert")[0]
    (tmp_path / "a.txt").write_text("good film\nbad film\n")
    (tmp_path / "b.txt").write_text("third one\n")
    assert len(answers(run("predict", "--model", folder, "--input", tmp_path / "a.txt", tmp_path / "b.txt"))) == 3
    mixed = run("predict", "--model", folder, "a text", "--input", tmp_path / "a.txt")
    assert mixed.returncode == 2 and "not both" in mixed.stderr


def test_trailing_blank_lines_are_ignored_and_middle_ones_refused_or_skipped(tiny_checkpoint, tmp_path):
    folder = tiny_checkpoint("bert")[0]
    trailing = tmp_path / "trailing.txt"
    trailing.write_text("good film\nbad film\n\n\n")
    assert len(answers(run("predict", "--model", folder, "--input", trailing))) == 2
    middle = tmp_path / "middle.txt"
    middle.write_text("good film\n\n   \nbad film\n")
    start = time.perf_counter()
    refused = run("predict", "--model", folder, "--input", middle, "--output", tmp_path / "out.jsonl")
    assert refused.returncode == 2 and f"line 2 of {middle} is blank" in refused.stderr
    assert "--skip-blank" in refused.stderr and not (tmp_path / "out.jsonl").exists()
    assert time.perf_counter() - start < FAST
    skipped = run("predict", "--model", folder, "--input", middle, "--skip-blank")
    assert len(answers(skipped)) == 2 and "skipped 2 blank line(s)" in skipped.stderr
    piped = run("predict", "--model", folder, "--skip-blank", input="good\n\nbad\n\n")
    assert len(answers(piped)) == 2


@pytest.mark.slow
def test_folders_are_refused_with_what_to_do(tmp_path):
    predict = run("predict", "--input", tmp_path)
    assert predict.returncode == 2 and "is a folder" in predict.stderr and "score" in predict.stderr
    export = tmp_path / "export" / "1"
    export.mkdir(parents=True)
    (export / "saved_model.pb").write_bytes(b"")
    (export / "assets.extra").mkdir()
    (export / "assets.extra" / "tf_pipeline.json").write_text(json.dumps(
        {"format": "saved_model", "task": "text-classification", "task_settings": {"labels": ["a"],
         "function_to_apply": "softmax"}, "max_length": 8, "input_names": ["input_ids"], "text_in": True,
         "schema_version": 3}))
    score = run("score", "--model", export, "--input", tmp_path, "--output", tmp_path / "out")
    assert score.returncode == 2 and "is a folder" in score.stderr and "Traceback" not in score.stderr
    mistyped = run("score", "--model", export, "--input", tmp_path / "x.txt", "--output", tmp_path / "o", "--fromat", "csv")
    assert mistyped.returncode == 2 and "--fromat (did you mean --format?)" in mistyped.stderr
    config = run("serving-config", export, "--output", tmp_path / "models.config")
    assert config.returncode == 2 and "is a version folder" in config.stderr and str(export.parent) in config.stderr


def test_quick_refusals_speak_command_line(tmp_path):
    export = tmp_path / "models" / "sentiment"
    (export / "1").mkdir(parents=True)
    (export / "1" / "saved_model.pb").write_bytes(b"")
    start = time.perf_counter()
    runtime = run("predict", "--model", export, "--runtime", "tflite-int8", "text")
    assert runtime.returncode == 2 and "--runtime tflite-int8 cannot change it" in runtime.stderr
    again = run("export", "--output", export, "--version", "1")
    assert again.returncode == 2 and "already exists" in again.stderr and "--overwrite" in again.stderr
    assert "overwrite=True" not in again.stderr
    assert time.perf_counter() - start < 2 * FAST


def test_a_mistyped_local_path_is_not_taken_for_a_hub_id(tmp_path):
    (tmp_path / "saved_models" / "sentiment").mkdir(parents=True)
    result = run("predict", "--model", "saved_models/sentimnet", "text", cwd=tmp_path)
    assert result.returncode == 2 and "No such local folder: saved_models/sentimnet" in result.stderr
    assert "saved_models/sentiment?" in result.stderr and "Hub" not in result.stderr


def test_csv_and_tsv_are_read_by_their_text_column(tiny_checkpoint, tmp_path):
    folder = tiny_checkpoint("bert")[0]
    (tmp_path / "reviews.csv").write_text('id,text,label\n1,"good, really",pos\n2,bad,neg\n')
    assert len(answers(run("predict", "--model", folder, "--input", tmp_path / "reviews.csv"))) == 2
    (tmp_path / "reviews.tsv").write_text("review\tlabel\ngood\tpos\nbad\tneg\n")
    missing = run("predict", "--model", folder, "--input", tmp_path / "reviews.tsv")
    assert missing.returncode == 2 and "no 'text' column" in missing.stderr and "--text-column" in missing.stderr
    assert list(read_texts(tmp_path / "reviews.tsv", text_column="review")) == ["good", "bad"]
    examples = read_labelled(tmp_path / "reviews.tsv", text_column="review")
    assert [(example.text, example.label) for example in examples] == [("good", "pos"), ("bad", "neg")]


def test_help_texts_are_clean():
    for command in ("finetune", "predict", "convert", "score", "export", "bench"):
        text = run(command, "--help").stdout
        assert "%%" not in text and "99.4" not in text and "39 shapes" not in text, command
    assert "--task" in run("predict", "--help").stdout and "--skip-blank" in run("predict", "--help").stdout
    assert "--text-column" in run("finetune", "--help").stdout and "--label-column" in run("evaluate", "--help").stdout


def test_blank_lines_are_blank_in_jsonl_too(tmp_path):
    from tf_pipeline import InvalidInputError

    with pytest.raises(InvalidInputError, match="empty or only whitespace"):
        parse_line(b"\n", "line 3 of a.jsonl", jsonl=True)
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "one"}\n\n{"text": "two"}\n\n')
    assert scan_file(path).blank == [f"line 2 of {path}"] and scan_file(path).texts == 2
    assert list(read_texts(path, skip_blank=True)) == ["one", "two"]


@pytest.mark.slow
def test_predict_answers_other_tasks(tmp_path):
    from tf_pipeline.checkpoints.locations import default_encoder_dir

    result = answers(run("predict", "--model", default_encoder_dir(), "a sentence", "another one"))
    assert len(result) == 2 and len(result[0]) == 384  # the shipped encoder answers sentence embeddings
    refused = run("predict", "--model", default_encoder_dir(), "--top-k", "2", "x")
    assert refused.returncode == 2 and "for text classification" in refused.stderr
