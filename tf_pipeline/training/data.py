"""Labelled texts: reading CSV/JSONL files with ``text`` and ``label``, and the shipped sentiment set.

Example:
    >>> examples = read_labelled("reviews.jsonl")     # [LabelledText(text, label, source), ...]
    >>> train, heldout = sentiment_set("train"), sentiment_set("heldout")
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from tf_pipeline import errors

SENTIMENT_DIR = Path(__file__).parent / "sentiment"


@dataclass(frozen=True)
class LabelledText:
    """One example; ``source`` says where it came from (``file.csv line 7``) for error messages."""

    text: str
    label: str | int
    source: str = ""


def read_labelled(path: str | os.PathLike) -> list[LabelledText]:
    """Read a CSV (header with ``text`` and ``label``) or JSONL (objects with them) file.

    Labels that are all integers (or digit strings) become ids; otherwise they are names.
    """
    path = Path(path)
    if not path.is_file():
        raise errors.InvalidInputError(f"Data file {path} does not exist.")
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise errors.InvalidInputError(f"{path} is not UTF-8 text: {error}") from error
    first = content.lstrip()[:1]
    if path.suffix.lower() in {".jsonl", ".json", ".ndjson"} or first in {"{", "["}:
        examples = _read_jsonl(path, content)
    elif path.suffix.lower() == ".csv" or "text" in content.split("\n", 1)[0]:
        examples = _read_csv(path, content)
    else:
        raise errors.InvalidInputError(
            f"{path} is neither CSV (a header with 'text' and 'label') nor JSONL (one JSON object per line)."
        )
    if not examples:
        raise errors.InvalidInputError(f"{path} has no examples.")
    return _normalise_labels(examples)


def _read_jsonl(path: Path, content: str) -> list[LabelledText]:
    examples = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise errors.InvalidInputError(f"{where}: not a JSON object ({error.msg}); is this JSONL?") from None
        if not isinstance(record, dict):
            raise errors.InvalidInputError(f"{where}: expected a JSON object with 'text' and 'label'.")
        examples.append(_example(record, where))
    return examples


def _read_csv(path: Path, content: str) -> list[LabelledText]:
    reader = csv.DictReader(content.splitlines())
    missing = [column for column in ("text", "label") if column not in (reader.fieldnames or [])]
    if missing:
        raise errors.InvalidInputError(
            f"{path} line 1: missing column {', '.join(repr(c) for c in missing)} (header: {reader.fieldnames})."
        )
    return [_example(row, f"{path} line {reader.line_num}") for row in reader if any((v or "").strip() for v in row.values())]


def _example(record: dict, where: str) -> LabelledText:
    for column in ("text", "label"):
        if record.get(column) is None or str(record[column]).strip() == "":
            problem = "empty text" if column == "text" and column in record else f"missing '{column}'"
            raise errors.InvalidInputError(f"{where}: {problem}.")
    if not isinstance(record["text"], str):
        raise errors.InvalidInputError(f"{where}: text must be a string.")
    return LabelledText(text=record["text"], label=record["label"], source=where)


def _normalise_labels(examples: list[LabelledText]) -> list[LabelledText]:
    def as_int(label):
        if isinstance(label, bool):
            return None
        if isinstance(label, int):
            return label
        text = str(label).strip()
        return int(text) if text.isdigit() else None

    ids = [as_int(example.label) for example in examples]
    if all(label is not None for label in ids):
        return [LabelledText(e.text, label, e.source) for e, label in zip(examples, ids)]
    return [LabelledText(e.text, str(e.label).strip(), e.source) for e in examples]


SENTIMENT_SPLITS = ("train", "validation", "heldout", "evaluation")


def sentiment_set(split: str = "train") -> list[LabelledText]:
    """One split of the shipped English sentiment set (all hand-written for this project).

    ``"train"`` and ``"validation"`` (for choosing training settings); ``"heldout"``, the fixed
    152 short statements; ``"evaluation"``, written separately in another voice with hard cases
    over-represented, never used for training or for choosing settings.
    """
    if split not in SENTIMENT_SPLITS:
        raise errors.InvalidInputError(f"split must be one of {', '.join(SENTIMENT_SPLITS)}; got {split!r}.")
    return read_labelled(SENTIMENT_DIR / f"{split}.jsonl")
