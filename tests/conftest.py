"""Session fixtures: the default pipeline and tiny checkpoints, each built once."""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Where no model is named, the tests (and the CLI processes they start) get the small default model;
# the tests of the default model itself name its folder (the ``mpnet_default`` fixture).
os.environ.setdefault("TF_PIPELINE_DEFAULT_MODEL", "small")

import pytest

from tiny_models import make_checkpoint

SEED_SENTENCES = [
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
]


@pytest.fixture(scope="session")
def default_pipe():
    from tf_pipeline import UntrainedHeadWarning, load_pipeline

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedHeadWarning)
        return load_pipeline()


@pytest.fixture(scope="session")
def mpnet_default():
    """The default model itself (all-mpnet-base-v2 fine-tuned), built by the set-up."""
    from tf_pipeline import load_pipeline
    from tf_pipeline.training.default_model import ensure_default_model

    return load_pipeline(ensure_default_model(small=False))


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """``tiny_checkpoint(architecture, weights="pt", ...)`` → (folder, in-memory model, tokenizer), cached."""
    made = {}

    def make(architecture: str = "bert", **options):
        key = (architecture, tuple(sorted(options.items())))
        if key not in made:
            folder = tmp_path_factory.mktemp(f"{architecture}-{options.get('weights', 'pt')}")
            model, tokenizer = make_checkpoint(folder, architecture, **options)
            made[key] = (folder, model, tokenizer)
        return made[key]

    return make


def assert_same_answers(ours, theirs, atol=1e-5):
    """Same nested structure as HF's pipeline output, same labels, scores within ``atol``."""
    assert type(ours) is type(theirs)
    if isinstance(ours, list):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_answers(a, b, atol)
    else:
        assert ours.keys() == theirs.keys() == {"label", "score"}
        assert ours["label"] == theirs["label"]
        assert isinstance(ours["score"], float)
        assert ours["score"] == pytest.approx(theirs["score"], abs=atol)
