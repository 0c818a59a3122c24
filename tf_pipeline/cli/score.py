"""``tf-pipeline score``: score files of any size on Apache Beam with an export, any task."""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os

from tf_pipeline.beam import FORMATS
from tf_pipeline.cli.options import add_zero_shot_arguments, positive_int, zero_shot_flags, zero_shot_options
from tf_pipeline.errors import TFPipelineError
from tf_pipeline.tasks import task_name, task_names

NAME = "score"
OWN_FLAGS = ["--model", "--input", "--output", "--format", "--runner", "--workers", "--max-batch-size", "--task",
             "--candidate-labels", "--hypothesis-template", "--multi-label"]


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="score files of any size on Apache Beam (DirectRunner here; Dataflow, Flink, Spark) with an export",
        description=(
            "Read every file matching --input (text: one text a line; .jsonl/.ndjson: a \"text\" field, and \"id\" "
            "kept if present, and \"text_pair\" for text pairs; local, gs:// or s3:// where Beam's extras are "
            "installed), answer each text with the SavedModel export --model (loaded once per worker, RunInference), "
            "and write sharded PREFIX-*.jsonl (or .csv, or .parquet): id, text (and text_pair) and the task's answer "
            "(label and score; the embedding vector; zero-shot: labels and scores, with --candidate-labels). "
            "Bad lines (blank, not UTF-8, not JSON, no text) go to PREFIX-errors-*.jsonl with file, line and "
            "reason; the job goes on. Other options must be Beam pipeline options, passed through (e.g. "
            "--project, --region, --temp_location for Dataflow; --flink_master); anything else is refused. "
            "Prints a summary: texts scored and rejected, seconds. Needs the [beam] extra."
        ),
    )
    parser.add_argument("--model", required=True, help="a SavedModel export (version or base folder) from tf-pipeline export")
    parser.add_argument("--input", required=True, help="a file pattern, e.g. 'reviews/*.txt' or gs://bucket/in-*.jsonl")
    parser.add_argument("--output", required=True, help="output prefix, e.g. scored/reviews (→ scored/reviews-00000-of-00002.jsonl)")
    parser.add_argument("--format", choices=FORMATS, default="jsonl",
                        help="output format (default: jsonl; csv for tasks with one value per field; parquet: "
                             "columnar, vectors as float lists)")
    parser.add_argument("--runner", default="DirectRunner",
                        help="DirectRunner (default: multi-process, one worker per core), DataflowRunner, FlinkRunner, "
                             "SparkRunner, or any runner Beam knows")
    parser.add_argument("--workers", type=positive_int, help="DirectRunner worker processes (default: the number of cores)")
    parser.add_argument("--max-batch-size", type=positive_int, default=64,
                        help="largest batch per model call; Beam grows batches from 8 up to it (default: 64)")
    parser.add_argument("--task", choices=task_names(),
                        help="the task to answer: the export's own (its metadata says it; given, it must match)")
    add_zero_shot_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from tf_pipeline.export.layout import latest_version_dir, read_metadata

    task = read_metadata(latest_version_dir(args.model)).task  # not an export: a clear error before Beam starts
    if args.task is not None and task_name(args.task) != task:
        raise TFPipelineError(f"{args.model} answers {task}; export the model with --task {task_name(args.task)} to "
                              f"score {task_name(args.task)} with it.")
    options = zero_shot_options(args) if task == "zero-shot-classification" else {}
    if task != "zero-shot-classification" and zero_shot_flags(args):
        raise TFPipelineError(f"{', '.join(zero_shot_flags(args))} are for zero-shot classification; "
                              f"{args.model} answers {task}.")
    try:
        from tf_pipeline.beam.transforms import score_files
    except ImportError as error:
        raise TFPipelineError(f"score needs Apache Beam: pip install 'tf_pipeline[beam]' ({error}).") from error
    refuse_unknown_options(args.beam_args, OWN_FLAGS)
    beam_args = [f"--runner={args.runner}"]
    if args.runner == "DirectRunner":
        workers = args.workers or len(os.sched_getaffinity(0))
        beam_args += ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    beam_args += args.beam_args  # the user's Beam options come last, so they win
    if not args.verbose:  # Beam's notes on optional cloud clients and its workers' start-up; -v shows them
        logging.getLogger().setLevel(logging.ERROR)
        beam_args.append("--default_sdk_harness_log_level=ERROR")
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # the workers' TensorFlow, started from here
    print(json.dumps(score_files(str(args.model), args.input, args.output, output_format=args.format,
                                 beam_args=beam_args, max_batch_size=args.max_batch_size, options=options)))


def beam_flags() -> set[str]:
    """Every option Beam's pipeline options define (all ``PipelineOptions`` subclasses Beam has loaded)."""
    from apache_beam.options import pipeline_options

    parser = argparse.ArgumentParser(add_help=False)
    seen, stack = set(), [pipeline_options.PipelineOptions]
    while stack:
        options_class = stack.pop()
        for subclass in options_class.__subclasses__():
            if subclass not in seen:
                seen.add(subclass)
                stack.append(subclass)
                subclass._add_argparse_args(parser)  # pylint: disable=protected-access
    return {flag for action in parser._actions for flag in action.option_strings}  # pylint: disable=protected-access


def refuse_unknown_options(extra: list[str], own: list[str]) -> None:
    """An error naming every extra option that is neither this command's nor Beam's, with near misses."""
    known = beam_flags()
    unknown = [item.split("=", 1)[0] for item in extra if item.startswith("--") and item.split("=", 1)[0] not in known]
    if not unknown:
        return
    notes = []
    for flag in unknown:
        close = difflib.get_close_matches(flag, own + sorted(known), n=1, cutoff=0.75)
        notes.append(f"{flag} (did you mean {close[0]}?)" if close else flag)
    raise TFPipelineError(f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(notes)}: neither score's "
                          "nor a Beam pipeline option (tf-pipeline score --help lists score's).")
