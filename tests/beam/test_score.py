"""Scoring files on Apache Beam (DirectRunner, 2 worker processes) with an export."""

import json
import os
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from tf_pipeline import export_saved_model, load_pipeline
from tf_pipeline.beam.transforms import ScoreTexts

CLI = str(Path(sys.executable).parent / "tf-pipeline")
WORDS = ["wonderful", "dreadful", "a warm surprise", "too long by half", "東京 😀", "not bad at all"]
BAD_LINES = {  # file, line → the reason's words
    ("plain.txt", 1201): "empty or only whitespace",
    ("plain.txt", 1202): "empty or only whitespace",
    ("rows.jsonl", 1001): "is not JSON",
    ("rows.jsonl", 1002): 'has no "text" field',
    ("rows.jsonl", 1003): "not a string",
    ("rows.jsonl", 1004): "not UTF-8",
    ("rows.jsonl", 1005): "not valid Unicode",
}


@pytest.fixture(scope="module")
def tiny_export(tiny_checkpoint, tmp_path_factory):
    folder = tiny_checkpoint("bert")[0]
    return folder, export_saved_model(load_pipeline(folder), tmp_path_factory.mktemp("beam") / "tiny")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    plain = [f"text {i}: {WORDS[i % len(WORDS)]}" for i in range(1200)]
    (folder / "plain.txt").write_text("\n".join(plain) + "\n\n \t \n", encoding="utf-8")
    rows = [{"id": i, "text": f"row {i}: {WORDS[i % len(WORDS)]}"} for i in range(1000)]
    with open(folder / "rows.jsonl", "wb") as file:
        file.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode())
        file.write(b'{broken\n{"no_text": 1}\n{"text": 5}\n{"text": "caf\xe9"}\n{"text": "x \\ud800"}\n')
    return folder, plain, rows


@pytest.mark.slow
def test_score_cli_matches_the_pipeline_and_sets_bad_lines_aside(tiny_export, inputs, tmp_path):
    checkpoint, export = tiny_export
    folder, plain, rows = inputs
    done = subprocess.run([CLI, "score", "--model", str(export.parent), "--input", str(folder / "*"),
                           "--output", str(tmp_path / "out" / "scored"), "--workers", "2"],
                          capture_output=True, text=True, timeout=900,
                          env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "oneDNN custom operations" not in done.stderr and "I0000" not in done.stderr, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert (summary["state"], summary["texts_scored"], summary["texts_rejected"]) == ("DONE", 2200, 7)
    scored = [json.loads(line) for path in sorted((tmp_path / "out").glob("scored-?????-of-?????.jsonl"))
              for line in path.read_text(encoding="utf-8").splitlines()]
    by_text = {record["text"]: record for record in scored}
    assert len(scored) == len(by_text) == 2200  # none lost, none twice
    texts = plain + [row["text"] for row in rows]
    expected = load_pipeline(checkpoint)(texts)
    for text, answer in zip(texts, expected):
        assert by_text[text]["label"] == answer["label"]
        assert by_text[text]["score"] == pytest.approx(answer["score"], abs=1e-5)
    assert {by_text[row["text"]]["id"] for row in rows} == {row["id"] for row in rows}
    assert "id" not in by_text[plain[0]]
    errors = [json.loads(line) for path in (tmp_path / "out").glob("scored-errors-*.jsonl")
              for line in path.read_text().splitlines()]
    assert {(Path(error["file"]).name, error["line"]): error["reason"] for error in errors}.keys() == BAD_LINES.keys()
    for error in errors:
        assert BAD_LINES[(Path(error["file"]).name, error["line"])] in error["reason"]


def test_score_refuses_a_folder_that_is_not_an_export_or_no_input_before_beam_starts(tiny_export, tmp_path):
    checkpoint, export = tiny_export
    for model, pattern, message in ((checkpoint, "x", "is not a SavedModel export"),
                                    (export, str(tmp_path / "none-*.txt"), "no file matches"),
                                    (export, str(tmp_path / "missing.txt"), "no file matches")):
        done = subprocess.run([CLI, "score", "--model", str(model), "--input", pattern, "--output", str(tmp_path / "o")],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, done.stderr[-2000:]
        assert message in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([CLI, "score", "--model", str(export), "--input", "x", "--output", str(tmp_path / "o"),
                           "--candidate-labels", "a,b"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "--candidate-labels are for zero-shot classification" in done.stderr
    done = subprocess.run([CLI, "score", "--model", str(export), "--input", "x", "--output", str(tmp_path / "o"),
                           "--task", "zero-shot-classification"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "export the model with --task zero-shot-classification" in done.stderr
    assert not list(tmp_path.iterdir())


def test_classify_texts_inside_a_users_pipeline(tiny_export):
    checkpoint, export = tiny_export
    texts = ["a warm surprise", "too long by half"]
    expected = load_pipeline(checkpoint)(texts)
    with beam.Pipeline() as pipeline:
        scored, rejected = (pipeline | beam.Create(texts + ["  ", None])
                            | ScoreTexts(str(export), min_batch_size=1, max_batch_size=4))
        assert_that(scored | "Answer" >> beam.Map(lambda record: (record["text"], record["label"])),
                    equal_to([(text, answer["label"]) for text, answer in zip(texts, expected)]), label="scored")
        assert_that(rejected | "Reason" >> beam.Map(lambda error: error["reason"].split(" is ")[1][:5]),
                    equal_to(["empty", "not a"]), label="rejected")


def test_an_export_on_another_file_system_scores_in_a_pipeline(tiny_export):
    """Exports may live on any TensorFlow file system (gs:// on Dataflow); ram:// stands in for it here."""
    import os

    import tensorflow as tf  # noqa: I001

    checkpoint, export = tiny_export
    for root, _, files in tf.io.gfile.walk(str(export)):
        target = "ram://models/tiny/1" + "".join("/" + part for part in Path(root).relative_to(export).parts)
        tf.io.gfile.makedirs(target)
        for name in files:
            tf.io.gfile.copy(os.path.join(root, name), f"{target}/{name}", overwrite=True)
    texts = ["a warm surprise", "too long by half"]
    expected = load_pipeline(checkpoint)(texts)
    assert [answer["label"] for answer in load_pipeline("ram://models/tiny")(texts)] == [a["label"] for a in expected]
    with beam.Pipeline() as pipeline:
        scored, _ = pipeline | beam.Create(texts) | ScoreTexts("ram://models/tiny")
        assert_that(scored | beam.Map(lambda record: record["label"]), equal_to([a["label"] for a in expected]))


def test_text_pairs_are_scored_as_pairs_and_written_with_their_second_text(tiny_export, tmp_path):
    import pyarrow.parquet as pq

    from tf_pipeline.beam.transforms import score_files
    from tf_pipeline.tasks.inputs import TextPair

    checkpoint, export = tiny_export
    rows = [{"id": 1, "text": "a warm surprise", "text_pair": "too long by half"},
            {"id": 2, "text": "too long by half", "text_pair": "a warm surprise"},
            {"id": 3, "text": "not bad at all"},
            {"id": 4, "text": "a warm surprise", "text_pair": " "}]
    (tmp_path / "pairs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    summary = score_files(str(export), str(tmp_path / "pairs.jsonl"), str(tmp_path / "out" / "scored"),
                          output_format="parquet")
    assert (summary["texts_scored"], summary["texts_rejected"]) == (3, 1)
    table = [row for path in (tmp_path / "out").glob("scored-*.parquet") for row in pq.read_table(path).to_pylist()]
    got = {row["id"]: row for row in table}
    assert list(table[0]) == ["id", "text", "text_pair", "label", "score"] and len(got) == 3
    inputs = [TextPair(row["text"], row["text_pair"]) if "text_pair" in row else row["text"] for row in rows[:3]]
    for row, answer in zip(rows, load_pipeline(checkpoint)(inputs)):
        assert (got[str(row["id"])]["text_pair"], got[str(row["id"])]["label"]) == (row.get("text_pair"), answer["label"])
        assert got[str(row["id"])]["score"] == pytest.approx(answer["score"], abs=1e-5)
    [error] = [json.loads(line) for path in (tmp_path / "out").glob("scored-errors-*") for line in path.read_text().splitlines()]
    assert error["line"] == 4 and "(text_pair) is empty" in error["reason"]
