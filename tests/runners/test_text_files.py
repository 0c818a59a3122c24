"""Reading texts from files through tf.data: lazy, line-numbered errors, same texts as a stream."""

import io
import json
from itertools import islice

import pytest

from tf_pipeline import InvalidInputError
from tf_pipeline.runners.text_files import READ_BLOCK, read_texts, scan_file


def test_file_and_stream_give_the_same_texts(tmp_path):
    texts = ["first review", "  padded  ", "ünïcode ☃ text", "x" * 10_000]
    plain = tmp_path / "texts.txt"
    plain.write_bytes(("\r\n".join(texts) + "\n").encode())  # Windows line ends are stripped too
    records = tmp_path / "texts.jsonl"
    records.write_text("".join(json.dumps({"text": text, "id": i}) + "\n" for i, text in enumerate(texts)))
    assert list(read_texts(plain)) == texts
    assert list(read_texts(records)) == texts
    assert list(read_texts(io.StringIO("\n".join(texts)))) == texts
    assert list(read_texts(io.StringIO(records.read_text()), jsonl=True)) == texts
    assert scan_file(plain).texts == scan_file(records).texts == len(texts)


def test_reading_is_lazy_and_errors_name_the_line(tmp_path):
    path = tmp_path / "big.txt"
    lines = [f"text {i}" for i in range(3 * READ_BLOCK)]
    lines[2 * READ_BLOCK + 5] = "   "
    path.write_text("\n".join(lines) + "\n")
    texts = read_texts(path)
    assert list(islice(texts, READ_BLOCK + 1)) == lines[:READ_BLOCK + 1]  # the blank line is not read yet
    with pytest.raises(InvalidInputError, match=f"line {2 * READ_BLOCK + 6} of .*big.txt is blank.*skip_blank"):
        list(texts)


@pytest.mark.parametrize("content, message", [
    (b"fine\n\xff\xfe broken\n", "line 2 .* not UTF-8"),
    (b'{"text": "fine"}\n[1, 2]\n', 'line 2 .* no "text" field'),
    (b'{"text": "fine"}\n{"text": \n', "line 2 .* not JSON"),
    (b'{"text": 3}\n', "line 1 .* is not a string \\(got int\\)"),
])
def test_bad_lines(tmp_path, content, message):
    path = tmp_path / ("bad.jsonl" if b"{" in content else "bad.txt")
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message):
        list(read_texts(path))


def test_missing_file_fails_before_reading(tmp_path):
    with pytest.raises(InvalidInputError, match="cannot read"):
        read_texts(tmp_path / "missing.txt")
    with pytest.raises(InvalidInputError, match="cannot read"):
        scan_file(tmp_path / "missing.txt")
    with pytest.raises(InvalidInputError, match="is a folder.*score"):
        scan_file(tmp_path)
