"""Zero-shot classification against HF's own TF ``ZeroShotClassificationPipeline`` on the same NLI weights."""

import functools

import pytest
from transformers import ZeroShotClassificationPipeline as HFZeroShot

from tf_pipeline import InvalidInputError, pipeline
from tiny_models import make_checkpoint

NLI_LABELS = {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}
SEQUENCES = ["The battery died after an hour of light use.", "A gripping, beautifully shot thriller.",
             "Le service était lent mais aimable."]
LABELS = ["electronics", "film", "restaurant", "travel"]
CALLS = [  # (name, positional arguments, keyword arguments): HF's documented and tested forms
    ("one sequence", (SEQUENCES[0],), {"candidate_labels": LABELS}),
    ("labels second, positionally", (SEQUENCES[0], LABELS), {}),
    ("comma-separated labels", (SEQUENCES[1],), {"candidate_labels": "film, politics,,  art"}),
    ("a list of sequences", (SEQUENCES,), {"candidate_labels": LABELS}),
    ("multi_label", (SEQUENCES,), {"candidate_labels": LABELS, "multi_label": True}),
    ("one label", (SEQUENCES[:2],), {"candidate_labels": ["film"]}),
    ("hypothesis_template", (SEQUENCES[2],), {"candidate_labels": LABELS, "hypothesis_template": "It is about {}."}),
]


def nli_checkpoint(folder, labels=NLI_LABELS, architecture="bert"):
    make_checkpoint(folder, architecture, id2label=labels, label2id={v: k for k, v in labels.items()},
                    num_labels=len(labels), initializer_range=0.5)  # large weights: scores move with every token
    return folder


@pytest.fixture(scope="module", params=["bert", "roberta"])
def pipes(request, tmp_path_factory):
    folder = nli_checkpoint(tmp_path_factory.mktemp(f"nli-{request.param}"), architecture=request.param)
    ours = pipeline("zero-shot-classification", model=folder)
    return ours, HFZeroShot(model=ours.model, tokenizer=ours.tokenizer, framework="tf")


def assert_same(ours, theirs, atol=1e-5):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b, atol)
        return
    assert ours.keys() == theirs.keys() == {"sequence", "labels", "scores"}
    assert (ours["sequence"], ours["labels"]) == (theirs["sequence"], theirs["labels"])
    assert ours["scores"] == pytest.approx(theirs["scores"], abs=atol)


@pytest.mark.parametrize("name, args, kwargs", CALLS, ids=[call[0] for call in CALLS])
def test_answers_like_hf(pipes, name, args, kwargs):
    ours, theirs = pipes
    assert_same(ours(*args, batch_size=3, **kwargs), theirs(*args, **kwargs))


def test_scores_depend_on_the_labels_and_sum_to_one(pipes):
    ours, _ = pipes
    answer = ours(SEQUENCES[0], candidate_labels=LABELS)
    assert sum(answer["scores"]) == pytest.approx(1.0, abs=1e-6)
    assert answer["scores"] == sorted(answer["scores"], reverse=True)
    assert max(answer["scores"]) - min(answer["scores"]) > 1e-3  # the hypotheses are read
    independent = ours(SEQUENCES[0], candidate_labels=LABELS, multi_label=True)
    assert all(0 < score < 1 for score in independent["scores"]) and sum(independent["scores"]) != pytest.approx(1.0)


def test_settings_given_when_made_and_generators(pipes, tmp_path):
    ours, theirs = pipes
    made = pipeline("zero-shot-classification", model=ours.source, candidate_labels=LABELS, multi_label=True)
    assert_same(made(SEQUENCES), theirs(SEQUENCES, candidate_labels=LABELS, multi_label=True))
    streamed = ours((text for text in SEQUENCES * 4), candidate_labels=LABELS)
    assert not isinstance(streamed, list)
    assert_same(list(streamed), ours(SEQUENCES * 4, candidate_labels=LABELS))
    assert_same(ours(SEQUENCES[0], candidate_labels=LABELS, multi_class=True),  # multi_label's old name
                ours(SEQUENCES[0], candidate_labels=LABELS, multi_label=True))


def test_bad_calls_get_hf_s_errors(pipes):
    ours, theirs = pipes
    with pytest.raises(InvalidInputError, match="needs candidate_labels"):
        ours(SEQUENCES[0])
    for bad in ([], ",  ,"):
        with pytest.raises(ValueError, match="at least one label"):
            theirs(SEQUENCES[0], candidate_labels=bad)
        with pytest.raises(InvalidInputError, match="at least one label"):
            ours(SEQUENCES[0], candidate_labels=bad)
    with pytest.raises(InvalidInputError, match="was not able to be formatted"):
        ours(SEQUENCES[0], candidate_labels=LABELS, hypothesis_template="No slot here.")
    with pytest.raises(InvalidInputError, match="extra arguments"):
        ours(SEQUENCES[0], LABELS, "more")
    with pytest.raises(InvalidInputError, match="text 1 is empty"):
        ours([SEQUENCES[0], "  "], candidate_labels=LABELS)
    with pytest.raises(InvalidInputError, match="takes no argument top_k"):
        ours(SEQUENCES[0], candidate_labels=LABELS, top_k=2)


def test_without_an_entailment_label_the_last_logit_is_used_as_hf_does(tmp_path, caplog):
    folder = nli_checkpoint(tmp_path / "unnamed", labels={0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    with caplog.at_level("WARNING"):
        ours = pipeline("zero-shot-classification", model=folder)
    assert ours.task.entailment_id == -1 and "entailment" in caplog.text
    theirs = HFZeroShot(model=ours.model, tokenizer=ours.tokenizer, framework="tf")
    for multi_label in (False, True):
        assert_same(ours(SEQUENCES, candidate_labels=LABELS, multi_label=multi_label),
                    theirs(SEQUENCES, candidate_labels=LABELS, multi_label=multi_label))


@pytest.fixture(scope="module")
def export(pipes, tmp_path_factory):
    from tf_pipeline import export_saved_model

    ours, _ = pipes
    return export_saved_model(ours, tmp_path_factory.mktemp("zero-shot") / "nli")


@functools.lru_cache(maxsize=2)
def load_export(folder: str):
    import tensorflow as tf

    return tf.saved_model.load(folder)


def served(export, signature="serving_default", **inputs):
    """The export's answers to one request, as a REST client reads them (one dict per sequence)."""
    import tensorflow as tf

    loaded = load_export(str(export))
    outputs = {name: value.numpy() for name, value in loaded.signatures[signature](
        **{name: tf.constant(value) for name, value in inputs.items()}).items()}
    return [{"sequence": sequence.decode(), "labels": [label.decode() for label in labels], "scores": scores.tolist()}
            for sequence, labels, scores in zip(outputs["sequence"], outputs["labels"], outputs["scores"])], outputs


SERVED_CALLS = [  # (signature inputs beyond the sequences, HF's keyword arguments)
    ({"candidate_labels": LABELS}, {"candidate_labels": LABELS}),
    ({"candidate_labels": ["film"]}, {"candidate_labels": ["film"]}),
    ({"candidate_labels": LABELS, "hypothesis_template": "It is {{really}} about {}.", "multi_label": False},
     {"candidate_labels": LABELS, "hypothesis_template": "It is {{really}} about {}."}),
    ({"candidate_labels": LABELS, "hypothesis_template": "This example is {}.", "multi_label": True},
     {"candidate_labels": LABELS, "multi_label": True}),
]


@pytest.mark.parametrize("inputs, kwargs", SERVED_CALLS, ids=["labels", "one label", "template", "multi_label"])
def test_the_export_answers_like_hf_with_the_post_processing_in_the_graph(pipes, export, inputs, kwargs):
    _, theirs = pipes
    signature = "serving_options" if "multi_label" in inputs else "serving_default"
    answers, _ = served(export, signature, sequences=SEQUENCES, **inputs)
    assert_same(answers, theirs(SEQUENCES, **kwargs), atol=1e-4)


def test_the_export_marks_blank_sequences_and_refuses_bad_labels(export):
    import tensorflow as tf

    answers, outputs = served(export, sequences=[SEQUENCES[0], "  "], candidate_labels=LABELS)
    assert outputs["valid"].tolist() == [True, False]
    assert answers[1]["labels"] == [""] * len(LABELS) and answers[1]["scores"] == [0.0] * len(LABELS)
    for labels, message in (([], "at least one label"), (["film", " "], "must not be empty")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            served(export, sequences=SEQUENCES, candidate_labels=tf.constant(labels, tf.string))
    with pytest.raises(tf.errors.InvalidArgumentError, match="hypothesis_template"):
        served(export, "serving_options", sequences=SEQUENCES, candidate_labels=LABELS,
               hypothesis_template="No slot here.", multi_label=False)


def test_verify_runs_every_signature_in_a_fresh_process(export):
    from tf_pipeline import verify_export

    report = verify_export(export)
    assert report.ok, str(report)
    checked = " ".join(name for name, _, _ in report.checks)
    assert "serving_default: labels equal" in checked and "serving_options: scores" in checked
    assert "serving_pairs: logits" in checked


def test_the_export_and_tflite_answer_in_python_like_hf(pipes, export, tmp_path):
    from tf_pipeline import convert_to_tflite

    ours, theirs = pipes
    expected = theirs(SEQUENCES, candidate_labels=LABELS, multi_label=True)
    assert_same(pipeline(model=str(export))(SEQUENCES, candidate_labels=LABELS, multi_label=True), expected, atol=1e-4)
    lite = pipeline(model=str(convert_to_tflite(ours, tmp_path / "nli.tflite")))
    assert lite.task == ours.task
    assert_same(lite(SEQUENCES, candidate_labels=LABELS, multi_label=True), expected, atol=1e-4)


def test_cli_predicts_zero_shot(pipes):
    import json

    from test_cli import run

    ours, _ = pipes
    done = run("predict", "--model", ours.source, "--task", "zero-shot-classification", *SEQUENCES[:2],
               "--candidate-labels", "electronics,film", "--multi-label")
    assert done.returncode == 0, done.stderr
    assert_same([json.loads(line) for line in done.stdout.splitlines()],
                ours(SEQUENCES[:2], candidate_labels=["electronics", "film"], multi_label=True))
    missing = run("predict", "--model", ours.source, "--task", "zero-shot-classification", "a text")
    assert missing.returncode != 0 and "--candidate-labels" in missing.stderr
    wrong = run("predict", "--model", ours.source, "--task", "zero-shot-classification", "a", "--top-k", "2",
                "--candidate-labels", "x")
    assert wrong.returncode != 0 and "--top-k are for text classification" in wrong.stderr


def test_score_on_beam_writes_labels_and_scores_per_sequence(pipes, export, tmp_path):
    import json

    from test_cli import run
    from tf_pipeline.beam.transforms import score_files

    ours, _ = pipes
    rows = [{"id": index, "text": text} for index, text in enumerate(SEQUENCES)] + [{"text": "a", "text_pair": "b"}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    done = run("score", "--model", str(export), "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out"),
               "--candidate-labels", "film, food", "--multi-label", "--workers", "1", "--task", "zero-shot-classification")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert (summary["texts_scored"], summary["texts_rejected"]) == (3, 1)
    options = {"candidate_labels": "film, food", "multi_label": True}
    scored = {record["id"]: record for path in tmp_path.glob("out-0*") for record in map(json.loads, path.read_text().splitlines())}
    for row, answer in zip(rows, ours(SEQUENCES, **options)):
        assert scored[row["id"]]["labels"] == answer["labels"]
        assert scored[row["id"]]["scores"] == pytest.approx(answer["scores"], abs=1e-5)
    assert "single texts" in "".join(path.read_text() for path in tmp_path.glob("out-errors-*"))
    for bad, message in (({}, "needs candidate_labels"), ({"candidate_labels": "x", "top_k": 1}, "takes no argument top_k")):
        with pytest.raises(InvalidInputError, match=message):
            score_files(str(export), str(tmp_path / "in.jsonl"), str(tmp_path / "never"), options=bad)
    with pytest.raises(InvalidInputError, match="lists"):
        score_files(str(export), str(tmp_path / "in.jsonl"), str(tmp_path / "never"), output_format="csv", options=options)
    assert not list(tmp_path.glob("never*"))
