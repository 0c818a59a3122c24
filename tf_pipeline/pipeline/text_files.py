"""Texts to classify, read lazily from a text or JSONL file (through tf.data) or from a stream.

A text file holds one text per line; a JSONL file (``.jsonl``/``.ndjson``) one object with a
``"text"`` field per line. Blank texts and broken lines are errors that name the line.

Example:
    >>> for ranked in pipe.stream(read_texts("big.jsonl"), batch_size=64):
    ...     print(ranked[0]["label"])
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator, TextIO

from tf_pipeline import errors

READ_BLOCK = 1024  # lines per tf.data element: memory holds two blocks (one prefetched)


def read_texts(source: str | os.PathLike | TextIO, *, jsonl: bool | None = None) -> Iterator[str]:
    """Each line's text, checked, in file order; nothing is read before the first text is asked for.

    A path is read by ``tf.data.TextLineDataset`` in blocks of :data:`READ_BLOCK` lines, the next
    block prefetched in the background, so memory stays bounded however big the file; an open
    text stream (stdin) is read line by line. ``jsonl`` defaults to the path's suffix.
    """
    lines: Iterable[str | bytes]
    if hasattr(source, "read"):
        name, lines = str(getattr(source, "name", "stream")), source
    else:
        _check_readable(Path(source))
        name, lines = str(source), _file_lines(Path(source))
    if jsonl is None:
        jsonl = name.endswith((".jsonl", ".ndjson"))
    return _texts(lines, name, jsonl)


def count_lines(path: str | os.PathLike) -> int:
    """Number of lines (texts) in a file, read in binary without decoding, for a progress bar."""
    _check_readable(Path(path))
    with open(path, "rb") as file:
        return sum(1 for _ in file)


def _check_readable(path: Path) -> None:
    if not path.is_file() or not os.access(path, os.R_OK):
        raise errors.InvalidInputError(f"cannot read {path}: not a readable file.")


def _file_lines(path: Path) -> Iterator[bytes]:
    import tensorflow as tf

    dataset = tf.data.TextLineDataset(str(path)).batch(READ_BLOCK).prefetch(1)
    for block in dataset.as_numpy_iterator():
        yield from block


def _texts(lines: Iterable[str | bytes], name: str, jsonl: bool) -> Iterator[str]:
    for number, line in enumerate(lines, start=1):
        yield parse_line(line, f"line {number} of {name}", jsonl)[0]


def parse_line(line: str | bytes, where: str, jsonl: bool) -> tuple[str, dict]:
    """One line's checked text and its JSONL object (``{}`` for a plain text line).

    :class:`InvalidInputError` names ``where`` and what is wrong: not UTF-8, not JSON, no ``"text"``
    field, a text that is not a string, or a blank text.

    Example:
        >>> parse_line(b'{"id": 7, "text": "fine"}\\n', "line 1 of a.jsonl", jsonl=True)
        ('fine', {'id': 7, 'text': 'fine'})
    """
    from tf_pipeline.pipeline.base import check_text

    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise errors.InvalidInputError(f"{where} is not UTF-8 text.") from None
    line = line.rstrip("\r\n")
    record = _jsonl_record(line, where) if jsonl else {}
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
