"""The shipped sentiment set: built from the hand-written sources, splits disjoint and balanced."""

import re
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import pytest

from tf_pipeline.training.data import SENTIMENT_DIR, SENTIMENT_SPLITS, sentiment_set

ROOT = Path(__file__).resolve().parents[2]


def loose(text: str) -> str:
    """Lowercased, with whitespace and punctuation collapsed: near-copies compare equal."""
    return re.sub(r"[\W_]+", " ", text.lower()).strip()


@pytest.fixture(scope="module")
def splits():
    return {name: sentiment_set(name) for name in SENTIMENT_SPLITS}


def test_sizes(splits):
    assert len(splits["heldout"]) == 152  # the original held-out statements, unchanged
    assert len(splits["evaluation"]) >= 500 and len(splits["critics"]) >= 500
    assert len(splits["train"]) + len(splits["validation"]) >= 600 + 4000


@pytest.mark.parametrize("name", SENTIMENT_SPLITS)
def test_each_split_is_balanced_and_has_no_repeats(splits, name):
    labels = [example.label for example in splits[name]]
    assert set(labels) == {"POSITIVE", "NEGATIVE"}
    assert labels.count("POSITIVE") == labels.count("NEGATIVE")
    texts = [loose(example.text) for example in splits[name]]
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize("first, second", list(combinations(SENTIMENT_SPLITS, 2)))
def test_no_sentence_in_two_splits(splits, first, second):
    assert not {e.text for e in splits[first]} & {e.text for e in splits[second]}
    assert not {loose(e.text) for e in splits[first]} & {loose(e.text) for e in splits[second]}


def test_shipped_files_are_what_the_sources_build(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_sentiment_set.py"), "--output", str(tmp_path)],
                   check=True, capture_output=True)
    for name in SENTIMENT_SPLITS:
        assert (tmp_path / f"{name}.jsonl").read_bytes() == (SENTIMENT_DIR / f"{name}.jsonl").read_bytes(), name
