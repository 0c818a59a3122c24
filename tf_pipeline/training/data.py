"""Labelled texts (or text pairs): reading CSV/JSONL files with ``text`` (``text_pair``) and ``label``,
and the shipped sentiment set.

Example:
    >>> examples = read_labelled("reviews.jsonl")     # [LabelledText(text, label, source), ...]  # doctest: +SKIP
    >>> train, heldout = sentiment_set("train"), sentiment_set("heldout")
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from tf_pipeline import errors
from tf_pipeline.tasks.inputs import ModelInput, TextPair

SENTIMENT_DIR = Path(__file__).parent / "sentiment"


@dataclass(frozen=True)
class LabelledText:
    """One example; ``source`` says where it came from (``file.csv line 7``) for error messages;
    ``text_pair``: the second text of a pair example (NLI, paraphrase, query-passage relevance)."""

    text: str
    label: str | int
    source: str = ""
    text_pair: str | None = None

    @property
    def model_input(self) -> ModelInput:
        """What the model reads: the text, or the :class:`TextPair`."""
        return self.text if self.text_pair is None else TextPair(self.text, self.text_pair)


def read_labelled(path: str | os.PathLike, *, text_column: str = "text", label_column: str = "label",
                  text_pair_column: str | None = None) -> list[LabelledText]:
    """Read a CSV or TSV (a header naming the text and label columns) or JSONL (objects with them) file.

    Labels that are all integers (or digit strings) become ids; otherwise they are names. Text pairs:
    ``text_pair_column`` names the second text's column; a JSONL file's ``"text_pair"`` field is read
    without it. Every example of a file is a pair, or none is.

    Args:
        path: the file (``.csv``, ``.tsv``, ``.jsonl``/``.ndjson``; others by their first line).
        text_column: the column (or JSON field) holding the text.
        label_column: the column (or JSON field) holding the label.
        text_pair_column: the column (or JSON field) holding each example's second text (pairs).

    Returns:
        The examples, each with where it came from.

    Raises:
        InvalidInputError: a missing file or column, an empty text, second text or label, a file that
            mixes pairs and single texts, or not CSV/TSV/JSONL.

    Example:
        >>> read_labelled(SENTIMENT_DIR / "heldout.jsonl")[0].label in ("NEGATIVE", "POSITIVE")
        True
    """
    columns = (text_column, label_column, text_pair_column)
    path = Path(path)
    if not path.is_file():
        raise errors.InvalidInputError(f"Data file {path} does not exist.")
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise errors.InvalidInputError(f"{path} is not UTF-8 text: {error}") from error
    first = content.lstrip()[:1]
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json", ".ndjson"} or first in {"{", "["}:
        examples = _read_jsonl(path, content, columns)
    elif suffix == ".tsv":
        examples = _read_csv(path, content, columns, "\t")
    elif suffix == ".csv" or text_column in content.split("\n", 1)[0]:
        examples = _read_csv(path, content, columns, ",")
    else:
        raise errors.InvalidInputError(
            f"{path} is neither CSV/TSV (a header with {text_column!r} and {label_column!r}) nor JSONL "
            "(one JSON object per line)."
        )
    if not examples:
        raise errors.InvalidInputError(f"{path} has no examples.")
    check_pairs(examples)
    return _normalise_labels(examples)


def check_pairs(examples: Sequence[LabelledText]) -> bool:
    """Whether the examples are text pairs; an error naming the first that differs if only some are."""
    pairs = examples[0].text_pair is not None if examples else False
    odd = next((example for example in examples if (example.text_pair is not None) != pairs), None)
    if odd is not None:
        has = "has no" if pairs else "has a"
        raise errors.InvalidInputError(f"{odd.source or 'an example'} {has} text_pair, unlike {examples[0].source or 'the first'}: "
                                       "the examples must all be text pairs or all single texts.")
    return pairs


def _read_jsonl(path: Path, content: str, columns: tuple) -> list[LabelledText]:
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
            raise errors.InvalidInputError(f"{where}: expected a JSON object with {columns[0]!r} and {columns[1]!r}.")
        pair_column = columns[2] or ("text_pair" if "text_pair" in record else None)
        examples.append(_example(record, where, (*columns[:2], pair_column)))
    return examples


def _read_csv(path: Path, content: str, columns: tuple, delimiter: str) -> list[LabelledText]:
    reader = csv.DictReader(content.splitlines(), delimiter=delimiter)
    missing = [column for column in columns if column is not None and column not in (reader.fieldnames or [])]
    if missing:
        raise errors.InvalidInputError(
            f"{path} line 1: missing column {', '.join(repr(c) for c in missing)} (header: {reader.fieldnames}); "
            f"name the columns with {errors.option('text_column', 'NAME')} and {errors.option('label_column', 'NAME')}."
        )
    return [_example(row, f"{path} line {reader.line_num}", columns) for row in reader
            if any((v or "").strip() for v in row.values() if isinstance(v, str))]


def _example(record: dict, where: str, columns: tuple) -> LabelledText:
    text_column, label_column, pair_column = columns
    for column in (text_column, label_column, pair_column):
        if column is not None and (record.get(column) is None or str(record[column]).strip() == ""):
            problem = f"empty {column}" if column != label_column and column in record else f"missing {column!r}"
            raise errors.InvalidInputError(f"{where}: {problem}.")
    for column in (text_column, pair_column):
        if column is not None and not isinstance(record[column], str):
            raise errors.InvalidInputError(f"{where}: {column} must be a string.")
    return LabelledText(text=record[text_column], label=record[label_column], source=where,
                        text_pair=record[pair_column] if pair_column else None)


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
        return [LabelledText(e.text, label, e.source, e.text_pair) for e, label in zip(examples, ids)]
    return [LabelledText(e.text, str(e.label).strip(), e.source, e.text_pair) for e in examples]


SENTIMENT_SPLITS = ("train", "validation", "heldout", "evaluation", "critics")


def sentiment_set(split: str = "train") -> list[LabelledText]:
    """One split of the shipped English sentiment set (all hand-written for this project).

    ``"train"`` and ``"validation"`` (for choosing training settings); ``"heldout"``, the fixed
    152 short statements; ``"evaluation"``, written separately in another voice with hard cases
    over-represented; ``"critics"``, written separately again by other writers in the voice of
    published film critics. The last two are never used for training or for choosing settings.
    """
    if split not in SENTIMENT_SPLITS:
        raise errors.InvalidInputError(f"split must be one of {', '.join(SENTIMENT_SPLITS)}; got {split!r}.")
    return read_labelled(SENTIMENT_DIR / f"{split}.jsonl")
