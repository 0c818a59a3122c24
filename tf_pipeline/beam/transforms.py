"""Beam transforms: read texts from files, answer them with an export (any task), write the answers.

Bad records never stop a job: a line that is not UTF-8, not JSON, has no ``"text"`` or a text that
is blank or not a string goes to the error output with its file, line and reason; the rest is scored.
A JSONL record with ``"text_pair"`` is scored as a text pair by tasks that read pairs (text classification).

Example (inside your own pipeline):
    >>> with beam.Pipeline() as pipeline:                                             # doctest: +SKIP
    ...     records, bad_lines = pipeline | ReadTexts("gs://bucket/reviews-*.jsonl")
    ...     scored, rejected = records | ScoreTexts("gs://bucket/models/sentiment/1")
    ...     scored | beam.Map(print)      # {"text": ..., "id": ..., "label": ..., "score": ...}
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from typing import Any, Iterator, Sequence

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference
from apache_beam.options.pipeline_options import PipelineOptions

from tf_pipeline import errors
from tf_pipeline.beam import FORMATS
from tf_pipeline.beam.handler import MAX_BATCH_SIZE, MIN_BATCH_SIZE, ExportModelHandler
from tf_pipeline.export.layout import latest_version_dir, read_metadata
from tf_pipeline.runners.text_files import parse_line
from tf_pipeline.tasks.base import Task
from tf_pipeline.tasks.inputs import TextPair, check_text

logger = logging.getLogger(__name__)

ERRORS = "errors"
JSONL_SUFFIXES = (".jsonl", ".ndjson")
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".deflate", ".zst", ".lzma")  # Beam's readers decompress these
INPUT_COLUMNS = ("id",)  # written before the task's input fields and record fields
NAMESPACE = "tf_pipeline"


class ParseFile(beam.DoFn):
    """One matched file → a record per good line (``text``, ``id`` if the JSONL row had one, ``file``,
    ``line``), and an error record per bad line (tagged :data:`ERRORS`)."""

    def __init__(self, jsonl: bool | None = None):
        self.jsonl = jsonl
        self.rejected = Metrics.counter(NAMESPACE, "texts_rejected")

    def process(self, readable) -> Iterator:
        path = readable.metadata.path
        jsonl = self.jsonl if self.jsonl is not None else is_jsonl(path)
        with readable.open() as stream:
            for number, line in enumerate(iter(stream.readline, b""), start=1):
                try:
                    text, row = parse_line(line, f"line {number} of {path}", jsonl)
                except errors.InvalidInputError as error:
                    self.rejected.inc()
                    yield beam.pvalue.TaggedOutput(ERRORS, {"file": path, "line": number, "reason": str(error)})
                    continue
                texts = text._asdict() if isinstance(text, TextPair) else {"text": text}
                yield {"file": path, "line": number, **texts, **({"id": row["id"]} if "id" in row else {})}


def is_jsonl(path: str) -> bool:
    """A ``.jsonl``/``.ndjson`` file, compressed or not (``reviews.jsonl.gz``)."""
    for suffix in COMPRESSION_SUFFIXES:
        path = path.removesuffix(suffix)
    return path.endswith(JSONL_SUFFIXES)


def check_pattern(pattern: str) -> int:
    """How many files ``pattern`` matches; an error if none, or a folder (before a pipeline starts)."""
    import os

    from apache_beam.io.filesystem import BeamIOError
    from apache_beam.io.filesystems import FileSystems

    if os.path.isdir(pattern):
        raise errors.InvalidInputError(
            f"{pattern} is a folder; pass a pattern of its files, e.g. --input '{pattern.rstrip('/')}/*' (quoted, "
            "so Beam expands it, not the shell).")
    try:
        matched = FileSystems.match([pattern])[0].metadata_list
    except (BeamIOError, ValueError) as error:
        raise errors.InvalidInputError(f"cannot read {pattern}: {error}") from None
    if not matched:
        raise errors.InvalidInputError(f"no file matches {pattern}.")
    return len(matched)


class ReadTexts(beam.PTransform):
    """A file pattern (local, gs://, s3://: whatever Beam's filesystems read) → (records, error records).

    Text files hold one text a line; ``.jsonl``/``.ndjson`` files one object with ``"text"`` (and
    optionally ``"id"``) a line. Each file is read by one worker; split huge inputs into several files.
    """

    def __init__(self, pattern: str, *, jsonl: bool | None = None):
        super().__init__()
        self.pattern, self.jsonl = pattern, jsonl

    def expand(self, pipeline):
        parsed = (pipeline
                  | "Match" >> fileio.MatchFiles(self.pattern)
                  | "Open" >> fileio.ReadMatches()
                  | "Parse" >> beam.ParDo(ParseFile(self.jsonl)).with_outputs(ERRORS, main="records"))
        return parsed.records, parsed[ERRORS]


class ValidateRecord(beam.DoFn):
    """A string or a record with ``"text"`` (and ``"text_pair"`` where ``pairs``) → a record; blank or
    non-string texts, or a pair for a task that reads none → the error output."""

    def __init__(self, pairs: bool = True):
        self.pairs = pairs
        self.rejected = Metrics.counter(NAMESPACE, "texts_rejected")

    def process(self, element) -> Iterator:
        record = element if isinstance(element, dict) else {"text": element}
        where = f"line {record['line']} of {record['file']}" if "line" in record else "text"
        try:
            check_text(where, record.get("text"))
            if "text_pair" in record:
                if not self.pairs:
                    raise errors.InvalidInputError(f"{where} has a text_pair; this task reads single texts.")
                check_text(f"{where} (text_pair)", record["text_pair"])
        except errors.InvalidInputError as error:
            self.rejected.inc()
            yield beam.pvalue.TaggedOutput(ERRORS, {**_json_safe(record), "reason": str(error)})
            return
        yield record


class ScoreTexts(beam.PTransform):
    """Texts or records → (records with the task's answer merged in, error records): ``label``,
    ``score`` and ``probabilities`` for text classification (of texts or pairs), ``embedding`` for
    sentence embeddings, ``labels`` and ``scores`` for zero-shot classification.

    Validates each element, spreads the work over the workers, runs :class:`ExportModelHandler`
    through RunInference (the export loaded once per worker), and merges each answer into its record.
    ``options``: the task's scoring arguments (zero-shot: ``candidate_labels``, ...), checked here by
    :meth:`Task.score_options`, before the pipeline runs.
    """

    def __init__(self, export_dir: str, *, min_batch_size: int = MIN_BATCH_SIZE, max_batch_size: int = MAX_BATCH_SIZE,
                 options: dict | None = None):
        super().__init__()
        task = read_metadata(latest_version_dir(export_dir)).make_task()
        self.pairs = "text_pair" in task.input_fields  # records with a text_pair are refused otherwise
        self.handler = KeyedModelHandler(ExportModelHandler(
            export_dir, min_batch_size=min_batch_size, max_batch_size=max_batch_size,
            options=task.score_options(dict(options or {}))))

    def expand(self, texts):
        checked = texts | "Validate" >> beam.ParDo(ValidateRecord(self.pairs)).with_outputs(ERRORS, main="records")
        scored = (checked.records
                  | "Spread" >> beam.Reshuffle()
                  | "Key" >> beam.Map(lambda record: (record, model_input(record)))  # the record rides along as the key
                  | "RunInference" >> RunInference(self.handler)
                  | "Merge" >> beam.ParDo(_MergeAnswer()))
        return scored, checked[ERRORS]


class _MergeAnswer(beam.DoFn):
    def __init__(self):
        self.scored = Metrics.counter(NAMESPACE, "texts_scored")

    def process(self, keyed) -> Iterator[dict]:
        record, result = keyed
        self.scored.inc()
        yield {**record, **result.inference}


def model_input(record: dict):
    """What the model reads of a record: its text, or a :class:`TextPair` when it has ``"text_pair"``."""
    return TextPair(record["text"], record["text_pair"]) if "text_pair" in record else record["text"]


def _json_safe(record: dict) -> dict:
    return json.loads(json.dumps(record, ensure_ascii=False, default=repr))


def columns(task: Task) -> tuple[str, ...]:
    """The fields an output record keeps: the input's ``id``, ``text`` (and ``text_pair`` for tasks that read
    pairs), then the task's :attr:`~Task.record_fields`."""
    return (*INPUT_COLUMNS, *task.input_fields, *task.record_fields)


def check_format(task: Task, output_format: str) -> None:
    """An error, before a pipeline starts, for a format that cannot hold this task's records."""
    if output_format not in FORMATS:
        raise errors.InvalidInputError(f"output format must be one of {', '.join(FORMATS)}, got {output_format!r}.")
    lists = [name for name, kind in task.record_fields.items() if kind in ("vector", "strings")]
    if output_format == "csv" and lists:
        raise errors.InvalidInputError(
            f"csv holds one value per column, and {task.name} answers lists ({', '.join(lists)}) per text; "
            "write jsonl or parquet.")


def format_record(record: dict, output_format: str, fields: Sequence[str]) -> str:
    """One output line (JSONL or CSV) with ``fields`` of ``record``."""
    kept = {key: record[key] for key in fields if key in record}
    if output_format == "jsonl":
        return json.dumps(kept, ensure_ascii=False)
    row = io.StringIO()
    csv.writer(row, lineterminator="").writerow([kept.get(column, "") for column in fields])
    return row.getvalue()


def parquet_schema(task: Task):
    """The Parquet schema of this task's records: ``id`` and the input texts as strings, then its fields."""
    import pyarrow

    kinds = {"string": pyarrow.string(), "float": pyarrow.float64(), "vector": pyarrow.list_(pyarrow.float32()),
             "strings": pyarrow.list_(pyarrow.string())}
    return pyarrow.schema([*((name, pyarrow.string()) for name in (*INPUT_COLUMNS, *task.input_fields)),
                           *((name, kinds[kind]) for name, kind in task.record_fields.items())])


def parquet_row(record: dict, fields: Sequence[str]) -> dict:
    """``record``'s ``fields``, ``id`` as a string (JSONL ids may be numbers), missing ones None."""
    row = {key: record.get(key) for key in fields}
    row["id"] = None if row["id"] is None else str(row["id"])
    return row


def score_files(export_dir: str, pattern: str, output_prefix: str, *, output_format: str = "jsonl",
                beam_args: Sequence[str] = (), min_batch_size: int = MIN_BATCH_SIZE,
                max_batch_size: int = MAX_BATCH_SIZE, options: dict | None = None) -> dict[str, Any]:
    """Score every text matched by ``pattern``; write ``PREFIX-*`` and ``PREFIX-errors-*``; return a summary.

    Args:
        export_dir: a SavedModel export (version or base folder; local or ``gs://``), any task.
        pattern: the input files (a glob; ``.jsonl`` with ``"text"`` and optional ``"text_pair"`` and ``"id"``,
            else one text per line).
        output_prefix: where the answers go (``PREFIX-00000-of-00001.jsonl``, ...).
        output_format: "jsonl", "csv" (tasks with one value per field) or "parquet".
        beam_args: Beam pipeline options (``--runner``, ``--direct_num_workers``, ``--project`` ...).
        options: the task's scoring arguments (zero-shot: ``candidate_labels``, ``hypothesis_template``,
            ``multi_label``).

    Returns:
        The job's state, texts scored and rejected, seconds, and the output and error file patterns.

    Raises:
        InvalidInputError: a format the task's records do not fit, a pattern that matches nothing, or
            scoring arguments the task does not take.
    """
    task = read_metadata(latest_version_dir(export_dir)).make_task()
    check_format(task, output_format)
    fields = columns(task)
    suffix = f".{output_format}"
    check_pattern(pattern)
    start = time.perf_counter()
    pipeline = beam.Pipeline(options=PipelineOptions(list(beam_args)))
    records, unreadable = pipeline | "Read" >> ReadTexts(pattern)
    scored, rejected = records | "Score" >> ScoreTexts(export_dir, min_batch_size=min_batch_size,
                                                       max_batch_size=max_batch_size, options=options)
    if output_format == "parquet":
        _ = (scored | "Rows" >> beam.Map(parquet_row, fields)
             | "Write" >> beam.io.WriteToParquet(output_prefix, parquet_schema(task), file_name_suffix=suffix))
    else:
        header = ",".join(fields) if output_format == "csv" else None
        _ = (scored | "Format" >> beam.Map(format_record, output_format, fields)
             | "Write" >> beam.io.WriteToText(output_prefix, file_name_suffix=suffix, header=header))
    _ = ((unreadable, rejected) | "AllErrors" >> beam.Flatten()
         | "FormatErrors" >> beam.Map(json.dumps, ensure_ascii=False)
         | "WriteErrors" >> beam.io.WriteToText(f"{output_prefix}-errors", file_name_suffix=".jsonl"))
    result = pipeline.run()
    state = result.wait_until_finish()
    counts = {name: _counter(result, name) for name in ("texts_scored", "texts_rejected")}
    return {"state": str(state), **counts, "seconds": round(time.perf_counter() - start, 1),
            "output": f"{output_prefix}-?????-of-?????{suffix}", "errors": f"{output_prefix}-errors-*.jsonl"}


def _counter(result, name: str) -> int | None:
    """A counter's committed value (attempted where the runner does not commit), None if not reported."""
    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE).with_name(name))["counters"]
    except (AttributeError, NotImplementedError, KeyError):
        return None
    if not counters:
        return 0
    return sum((counter.committed if counter.committed is not None else counter.attempted) or 0 for counter in counters)
