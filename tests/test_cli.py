"""`tf-pipeline` as users run it: a fresh process, JSON lines on stdout, messages on stderr."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SEED_SENTENCES

CLI = str(Path(sys.executable).parent / "tf-pipeline")


def run(*args, input=None, env=None):
    return subprocess.run(
        [CLI, *map(str, args)], input=input, capture_output=True, text=True, timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_help_explains_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("predict", "walkthrough", "build-default", "export", "verify", "convert"):
        assert command in result.stdout
    predict_help = run("predict", "--help").stdout
    for option in ("--input", "--top-k", "--batch-size", "--max-length", "--model"):
        assert option in predict_help


def test_predict_arguments_and_top_k(tiny_checkpoint, default_pipe):
    folder, _, _ = tiny_checkpoint("bert")
    result = run("predict", "--model", folder, "good film", "bad film", "--top-k", "all")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2 and all(len(line) == 3 for line in lines)
    assert lines[0][0]["score"] >= lines[0][1]["score"] >= lines[0][2]["score"]
    assert "I0000" not in result.stderr and "oneDNN" not in result.stderr  # TensorFlow's C++ log noise


def test_the_cli_skips_keras_3_when_it_imports_tensorflow(tiny_checkpoint):
    """Keras 3 (and the matplotlib it imports) cost 0.6 s of every command's start; tf.keras is tf_keras."""
    folder, _, _ = tiny_checkpoint("bert")
    code = ("import sys; from tf_pipeline.cli import main; main(['predict', '--model', sys.argv[1], 'good film']); "
            "print(sorted(name for name in ('keras.src', 'matplotlib', 'tensorflow') if name in sys.modules))")
    env = {key: value for key, value in os.environ.items() if key != "TF_USE_LEGACY_KERAS"}
    result = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "['tensorflow']"


@pytest.mark.slow
def test_the_program_keeps_its_exit_code_and_exit_handlers(tiny_checkpoint, tmp_path):
    """``cli.run`` freezes the collector before exiting (the last collections cost 0.7 s); exit
    handlers still run and the command's exit code is the process's."""
    folder, _, _ = tiny_checkpoint("bert")
    code = ("import atexit, gc, sys; atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0)); "
            "from tf_pipeline.cli import run; sys.argv = ['tf-pipeline', 'predict', '--model', *sys.argv[1:]]; run()")
    for model, status in ((str(folder), 0), (str(tmp_path / "missing"), 2)):
        result = subprocess.run([sys.executable, "-c", code, model, "good film"], capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == status, result.stderr
        assert result.stdout.splitlines()[-1] == "frozen True"
        assert ('"label"' in result.stdout) == (status == 0)


def test_predict_from_file_and_stdin_match_the_library(tiny_checkpoint, tmp_path):
    from tf_pipeline import load_pipeline

    folder, _, _ = tiny_checkpoint("distilbert")
    texts = [f"review number {i}: not bad at all" for i in range(70)]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n")
    from_file = run("predict", "--model", folder, "--input", path, "--batch-size", "16")
    from_stdin = run("predict", "--model", folder, input="\n".join(texts))
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == from_stdin.stdout
    expected = load_pipeline(folder)(texts)
    got = [json.loads(line) for line in from_file.stdout.splitlines()]
    assert [g["label"] for g in got] == [e["label"] for e in expected]
    assert [g["score"] for g in got] == pytest.approx([e["score"] for e in expected], abs=1e-5)


def test_predict_reports_blank_line_and_missing_model(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("bert")
    path = tmp_path / "texts.txt"
    path.write_text("fine\n\nalso fine\n")
    result = run("predict", "--model", folder, "--input", path)
    assert result.returncode == 2
    assert "line 2" in result.stderr and "blank" in result.stderr and "--skip-blank" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run("predict", "--model", tmp_path / "nope", "text")
    assert missing.returncode == 2 and "No such local folder" in missing.stderr
    no_input = run("predict", "--model", folder, "--input", tmp_path / "nope.txt")
    assert no_input.returncode == 2 and "cannot read" in no_input.stderr and "Traceback" not in no_input.stderr


@pytest.mark.parametrize(
    "env", [{"HF_HUB_OFFLINE": "1"}, {"HF_ENDPOINT": "http://127.0.0.1:9"}], ids=["offline", "refused"]
)
def test_hub_unreachable(env):
    result = run("predict", "--model", "someone/some-sentiment-model", "text", env=env)
    assert result.returncode == 2
    assert "cannot be reached" in result.stderr and "local" in result.stderr


@pytest.mark.slow
def test_walkthrough_on_the_default_model():
    result = run("walkthrough")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[101, 1045, 5223, 2023, 2061, 2172, 999, 102, 0, 0, 0, 0, 0, 0, 0, 0]" in out
    assert "[1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]" in out
    assert "last hidden state shape: [2, 16, 384]" in out
    assert "logits shape: [2, 2]" in out
    for sentence in SEED_SENTENCES:
        assert repr(sentence) in out


@pytest.mark.slow
def test_predict_streams_jsonl_to_an_output_file(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("bert")
    source = tmp_path / "big.jsonl"
    source.write_text("".join(json.dumps({"text": f"review {i}: the film was wonderful", "id": i}) + "\n" for i in range(300)))
    output = tmp_path / "out.jsonl"
    done = run("predict", "--model", folder, "--input", source, "--output", output, "--batch-size", "64")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    lines = output.read_text().splitlines()
    assert len(lines) == 300 and all(json.loads(line)["label"] for line in lines)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with_xla = run("predict", "--model", folder, "--input", source, "--output", tmp_path / "xla.jsonl", "--xla")
    assert with_xla.returncode == 0, with_xla.stderr
    for plain, compiled in zip(lines, (tmp_path / "xla.jsonl").read_text().splitlines(), strict=True):
        plain, compiled = json.loads(plain), json.loads(compiled)
        assert plain["label"] == compiled["label"] and abs(plain["score"] - compiled["score"]) < 1e-4
    source.write_text('{"text": "fine"}\n{"no_text": 1}\n')
    bad = run("predict", "--model", folder, "--input", source, "--output", tmp_path / "bad.jsonl")
    assert bad.returncode == 2 and 'line 2' in bad.stderr and "text" in bad.stderr
    assert not (tmp_path / "bad.jsonl").exists()


def test_bench_refuses_batch_sizes_below_one():
    for sizes in ("1,0", "8,-2", "a,b"):
        result = run("bench", "--batch-sizes", sizes)
        assert result.returncode == 2 and "--batch-sizes" in result.stderr, (sizes, result.stderr)


def test_build_default_reports_the_built_model_without_rebuilding_it(default_pipe):
    metrics = json.loads((Path(default_pipe.source) / "metrics.json").read_text())
    done = run("build-default", "--small")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["folder"] == default_pipe.source
    assert report["heldout"] == metrics["heldout"]["accuracy"] and report["build_seconds"] == metrics["build_seconds"]
    assert "Building" not in done.stderr
