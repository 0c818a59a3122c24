"""Zero-shot classification against HF's own TF ``ZeroShotClassificationPipeline`` on the same NLI weights."""

import pytest
from transformers import ZeroShotClassificationPipeline as HFZeroShot

from tf_pipeline import InvalidInputError, UnsupportedModelError, pipeline
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


def test_exports_are_refused_with_what_to_do(pipes, tmp_path):
    from tf_pipeline import convert_to_tflite, export_saved_model

    ours, _ = pipes
    with pytest.raises(UnsupportedModelError, match="runs in Python only so far"):
        export_saved_model(ours, tmp_path / "export")
    with pytest.raises(UnsupportedModelError, match="runs in Python only so far"):
        convert_to_tflite(ours, tmp_path / "zero-shot.tflite")
    assert not (tmp_path / "export").exists() or not any((tmp_path / "export").iterdir())



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
