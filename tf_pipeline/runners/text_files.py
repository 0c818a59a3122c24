"""Texts to answer, read lazily from a text, JSONL, CSV or TSV file (through tf.data) or from a stream.

A text file holds one text per line; a JSONL file (``.jsonl``/``.ndjson``) one object with a
``"text"`` field per line (and a ``"text_pair"`` field for a text pair); a CSV or TSV file
(``.csv``/``.tsv``) a header, then rows whose ``text`` column (or another, ``text_column=``) is
read, with the second texts of pairs in ``text_pair_column=``. Blank lines at the end are ignored (a
final newline must not matter); a blank line or text before the end is an error that names the
line, unless ``skip_blank=True`` (then ``on_skip`` hears of each). Broken lines are errors that
name the line.

Example:
    >>> for ranked in pipe.stream(read_texts("big.jsonl"), batch_size=64):   # doctest: +SKIP
    ...     print(ranked[0]["label"])
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, TextIO

from tf_pipeline import errors
from tf_pipeline.tasks.inputs import ModelInput, TextPair, check_pair, check_text

READ_BLOCK = 1024  # lines per tf.data element: memory holds two blocks (one prefetched)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}


def read_texts(source: str | os.PathLike | TextIO, *, jsonl: bool | None = None, skip_blank: bool = False,
               on_skip: Callable[[str], None] | None = None, text_column: str = "text",
               text_pair_column: str | None = None) -> Iterator[ModelInput]:
    """Each line's text, checked, in file order; nothing is read before the first text is asked for.

    A text or JSONL path is read by ``tf.data.TextLineDataset`` in blocks of :data:`READ_BLOCK`
    lines, the next block prefetched in the background, so memory stays bounded however big the
    file; an open text stream (stdin) is read line by line; a CSV or TSV file by Python's ``csv``.

    Args:
        source: a path or an open text stream.
        jsonl: JSONL lines (default: by the path's suffix).
        skip_blank: leave out blank lines and texts before the end instead of refusing them.
        on_skip: called with where each skipped blank was (e.g. to count them).
        text_column: the column a CSV or TSV file's texts are in.
        text_pair_column: the column holding each row's second text (pairs; default: none).

    Returns:
        An iterator of the texts (:class:`~tf_pipeline.tasks.inputs.TextPair` where a JSONL line
        has ``"text_pair"`` or a table has ``text_pair_column``).

    Raises:
        InvalidInputError: a path that is a folder or unreadable (at once); a bad line (when read).
    """
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "stream"))
        rows = _numbered(source, name, jsonl if jsonl is not None else name.endswith(JSONL_SUFFIXES))
    else:
        path = Path(source)
        check_readable(path)
        name = str(path)
        if path.suffix.lower() in TABLE_DELIMITERS:
            rows = _table_rows(path, text_column, text_pair_column)
        else:
            rows = _numbered(_file_lines(path), name, jsonl if jsonl is not None else name.endswith(JSONL_SUFFIXES))
    return _without_blanks(rows, skip_blank, on_skip)


@dataclass
class Scan:
    """What a pass over a file found: its texts, and where blank lines are (before the end)."""

    texts: int = 0
    blank: list[str] = field(default_factory=list)


def scan_file(path: str | os.PathLike, *, text_column: str = "text") -> Scan:
    """Count a file's texts and find its blank lines (trailing ones ignored) without decoding JSON:
    for a progress bar's total and for refusing blanks before a model loads.

    Example:
        >>> scan_file(SENTIMENT_DIR / "heldout.jsonl").blank   # doctest: +SKIP
        []
    """
    path = Path(path)
    check_readable(path)
    scan, pending = Scan(), []
    if path.suffix.lower() in TABLE_DELIMITERS:
        lines = ((where, text) for where, text, _ in _table_rows(path, text_column))
    else:
        lines = _binary_lines(path)
    for where, text in lines:
        if _is_blank(text):
            pending.append(where)
            continue
        scan.texts += 1
        scan.blank += pending
        pending = []
    return scan


def check_readable(path: Path) -> None:
    """An error unless ``path`` is a readable file (a folder gets a hint: files or ``score``)."""
    if path.is_dir():
        raise errors.InvalidInputError(
            f"{path} is a folder; pass its files ({errors.option('input', f'{path}/*.txt')}, which your shell expands) "
            f"or score a whole folder on Beam (tf-pipeline score --input '{path}/*').")
    if not path.is_file() or not os.access(path, os.R_OK):
        raise errors.InvalidInputError(f"cannot read {path}: not a readable file.")


def _is_blank(text: str | bytes | TextPair) -> bool:
    if isinstance(text, TextPair):
        return _is_blank(text.text) and _is_blank(text.text_pair)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return False  # reported when read
    return not text.strip()


def _has_blank_text(line: str | bytes) -> bool:
    """A JSONL line whose ``"text"`` is an empty or whitespace string."""
    try:
        record = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(record, dict) and isinstance(record.get("text"), str) and not record["text"].strip()


def _binary_lines(path: Path) -> Iterator[tuple[str, bytes]]:
    with open(path, "rb") as file:
        for number, line in enumerate(file, start=1):
            yield f"line {number} of {path}", line


def _file_lines(path: Path) -> Iterator[bytes]:
    import tensorflow as tf

    dataset = tf.data.TextLineDataset(str(path)).batch(READ_BLOCK).prefetch(1)
    for block in dataset.as_numpy_iterator():
        yield from block


def _numbered(lines: Iterable[str | bytes], name: str, jsonl: bool) -> Iterator[tuple[str, str | bytes, bool]]:
    for number, line in enumerate(lines, start=1):
        yield f"line {number} of {name}", line, jsonl


def _table_rows(path: Path, text_column: str, text_pair_column: str | None = None
                ) -> Iterator[tuple[str, str | TextPair, bool]]:
    """(where, the text cell or the pair of cells, False) per CSV/TSV row after the header; an error if a
    column is missing."""
    with open(path, newline="", encoding="utf-8-sig", errors="strict") as file:
        reader = csv.DictReader(file, delimiter=TABLE_DELIMITERS[path.suffix.lower()])
        try:
            header = reader.fieldnames or []
        except (UnicodeDecodeError, csv.Error) as error:
            raise errors.InvalidInputError(f"{path} cannot be read as {path.suffix[1:].upper()}: {error}") from None
        for column, option in ((text_column, "text_column"), (text_pair_column, "text_pair_column")):
            if column is not None and column not in header:
                raise errors.InvalidInputError(
                    f"{path} has no {column!r} column (its header: {', '.join(header) or 'none'}); "
                    f"name the column with {errors.option(option, 'NAME')}.")
        try:
            for row in reader:
                text = row.get(text_column) or ""
                if text_pair_column is not None:
                    text = TextPair(text, row.get(text_pair_column) or "")
                yield f"line {reader.line_num} of {path}", text, False
        except (UnicodeDecodeError, csv.Error) as error:
            raise errors.InvalidInputError(f"{path} near line {reader.line_num}: {error}") from None


def _without_blanks(rows: Iterable[tuple[str, str | bytes | TextPair, bool]], skip_blank: bool,
                    on_skip: Callable[[str], None] | None) -> Iterator[ModelInput]:
    """The rows' texts; blank lines held back until a text follows them (so trailing ones vanish),
    then skipped or refused."""
    pending: list[str] = []
    for where, line, jsonl in rows:
        if _is_blank(line) or (skip_blank and jsonl and _has_blank_text(line)):
            pending.append(where)
            continue
        text = parse_line(line, where, jsonl)[0]
        if pending:
            if not skip_blank:
                raise errors.InvalidInputError(
                    f"{pending[0]} is blank; remove blank lines or pass {errors.option('skip_blank')} to leave them out.")
            for skipped in pending:
                if on_skip is not None:
                    on_skip(skipped)
            pending = []
        yield text


def parse_line(line: str | bytes | TextPair, where: str, jsonl: bool) -> tuple[ModelInput, dict]:
    """One line's checked text (a :class:`TextPair` for a JSONL line with ``"text_pair"``, or a table
    row's pair of cells) and its JSONL object (``{}`` for a plain text line).

    :class:`InvalidInputError` names ``where`` and what is wrong: not UTF-8, not JSON, no ``"text"``
    field, a text that is not a string, or a blank text.

    Example:
        >>> parse_line(b'{"id": 7, "text": "fine"}\\n', "line 1 of a.jsonl", jsonl=True)
        ('fine', {'id': 7, 'text': 'fine'})
        >>> parse_line('{"text": "a cat", "text_pair": "an animal"}', "line 2 of a.jsonl", jsonl=True)[0]
        TextPair(text='a cat', text_pair='an animal')
    """
    if isinstance(line, TextPair):
        return check_pair(where, line.text, line.text_pair), {}
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.InvalidInputError(f"{where} is not UTF-8 text.") from None
    line = line.rstrip("\r\n")
    if not line.strip():
        check_text(where, line)  # a blank line is blank, in JSONL too (not "not JSON")
    record = _jsonl_record(line, where) if jsonl else {}
    if "text_pair" in record:
        return check_pair(where, record["text"], record["text_pair"]), record
    return check_text(where, record["text"] if jsonl else line), record


def _jsonl_record(line: str, where: str) -> dict:
    """A JSONL line's object, which must have a "text" field."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise errors.InvalidInputError(f"{where} is not JSON ({error.msg}).") from None
    if not isinstance(record, dict) or "text" not in record:
        raise errors.InvalidInputError(f'{where} has no "text" field.')
    return record
