"""``tf-pipeline predict``: answer texts (arguments, files or stdin), one JSON line per text."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from typing import Iterator

from tf_pipeline.cli.options import (add_model_arguments, add_zero_shot_arguments, output, positive_int, zero_shot_flags,
                                     zero_shot_options)
from tf_pipeline.errors import TFPipelineError

NAME = "predict"
PROGRESS_MIN_TEXTS = 64  # show a progress bar from this many input texts on
FUNCTIONS = ("softmax", "sigmoid", "none")  # text classification's function_to_apply


def top_k(value: str) -> int | str:
    return "all" if value.lower() in {"all", "none"} else positive_int(value)


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="answer texts with a model (classify them, embed them, ...), one JSON line per text",
        description=(
            "Answer texts given as arguments, or read from --input files or standard input, with the task the "
            "model is for (--task to choose). Writes one JSON line per text to stdout, in input order. Text "
            "classification: {\"label\", \"score\"} without --top-k, or a list of them, best first, with --top-k; "
            "sentence embeddings: the vector; feature extraction: [1][tokens][hidden] lists. Text pairs (NLI, "
            "paraphrase, query-passage rerankers): --text-pair for argument texts, a \"text_pair\" field in JSONL, "
            "--text-pair-column in CSV/TSV. "
            "Blank lines at the end of a file are ignored; a blank line before the end is an error, found before "
            "the model loads, unless --skip-blank leaves such lines out (their count goes to stderr)."
        ),
    )
    parser.add_argument("texts", nargs="*", help="texts to answer (or give --input files, or pipe lines in)")
    parser.add_argument("--input", "-i", nargs="+", metavar="FILE",
                        help="files: one text per line, .jsonl/.ndjson with a \"text\" field, or .csv/.tsv with a "
                             "header and a text column; '-' for stdin. Several files are read in order")
    parser.add_argument("--text-pair", nargs="+", metavar="TEXT",
                        help="text classification of pairs: the second text of each argument text, in order")
    parser.add_argument("--text-column", default="text", help="the .csv/.tsv column holding the texts (default: text)")
    parser.add_argument("--text-pair-column", metavar="NAME",
                        help="the .csv/.tsv column holding each row's second text (pairs; default: none)")
    parser.add_argument("--skip-blank", action="store_true",
                        help="leave out blank lines (and blank JSONL texts) instead of stopping at the first")
    parser.add_argument("--output", "-o", help="write the JSON lines to this file instead of stdout (complete or not at all)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="texts per forward pass (default: 32)")
    classification = parser.add_argument_group("text classification")
    classification.add_argument(
        "--top-k", type=top_k, help="how many labels per text, best first; 'all' for every label (default: the best "
                                    "one, as a dict)")
    classification.add_argument("--function", choices=FUNCTIONS,
                                help="applied to the logits (default: the model's: softmax, sigmoid for multi-label "
                                     "or one-label models, none for regression)")
    add_zero_shot_arguments(parser)
    parser.add_argument("--xla", action="store_true",
                        help="compile with XLA (fixed length buckets; docs/benchmark.md compares its speed)")
    add_model_arguments(parser, exports=True, task=True)
    return parser


def run(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from tf_pipeline.api import pipeline
    from tf_pipeline.tasks import task_name

    if args.task is not None:
        call_options(args, task_name(args.task))  # options of another task, or missing ones, refused before loading
    texts, total, skipped = read_inputs(args)  # bad inputs fail here, before the model loads
    task = args.task or ("text-classification" if args.model is None else None)
    pipe = pipeline(task, args.model, max_length=args.max_length, jit_compile=args.xla, runtime=args.runtime)
    options = call_options(args, pipe.task.name)
    quiet = total is not None and total < PROGRESS_MIN_TEXTS
    with output(args.output) as out, tqdm(total=total, unit="text", file=sys.stderr,
                                          disable=quiet or (None if args.output is None else False)) as progress:
        for answer in pipe(texts, **options):
            out.write(json.dumps(answer, ensure_ascii=False, default=_plain) + "\n")
            progress.update()
    if skipped:
        print(f"tf-pipeline predict: skipped {len(skipped)} blank line(s), the first {skipped[0]}.", file=sys.stderr)


def call_options(args: argparse.Namespace, task: str) -> dict:
    """The call's keyword arguments; options of another task refused."""
    options = {"batch_size": args.batch_size}
    by_task = {"text-classification": {"--top-k": args.top_k, "--function": args.function},
               "zero-shot-classification": zero_shot_flags(args)}
    for owner, given in by_task.items():
        named = [flag for flag, value in given.items() if value is not None]
        if owner != task and named:
            raise TFPipelineError(f"{', '.join(named)} are for {owner.replace('-', ' ')}; this model answers {task}.")
    if task == "zero-shot-classification":
        return {**options, **zero_shot_options(args)}
    if task != "text-classification":
        return options
    if args.top_k is not None:
        options["top_k"] = None if args.top_k == "all" else args.top_k
    if args.function is not None:
        options["function_to_apply"] = args.function
    return options


def read_inputs(args: argparse.Namespace) -> tuple[Iterator, int | None, list[str]]:
    """The texts (lazily), how many (None for stdin) and the list that skipped blank lines are added to.

    Files are scanned first, so a blank line before the end is refused before anything loads.
    """
    from tf_pipeline.runners.text_files import read_texts, scan_file
    from tf_pipeline.tasks.inputs import TextPair

    skipped: list[str] = []
    if args.texts and args.input:
        raise TFPipelineError("give texts as arguments or --input files, not both (a path after --input's files "
                              "would be read as a text).")
    if args.text_pair is not None and len(args.text_pair) != len(args.texts):
        raise TFPipelineError(f"--text-pair gives the second text of each argument text: {len(args.texts)} text(s), "
                              f"{len(args.text_pair)} --text-pair (JSONL input: a \"text_pair\" field per line).")
    if args.texts:
        if args.text_pair is not None:
            return map(TextPair, args.texts, args.text_pair), len(args.texts), skipped
        return iter(args.texts), len(args.texts), skipped
    files = args.input or ["-"]
    if files == ["-"] and args.input is None and sys.stdin.isatty():
        raise TFPipelineError("give texts as arguments, or --input FILE, or pipe lines in.")
    total = 0
    for path in files:
        if path == "-":
            total = None
            continue
        scan = scan_file(path, text_column=args.text_column)
        if scan.blank and not args.skip_blank:
            raise TFPipelineError(f"{scan.blank[0]} is blank ({len(scan.blank)} blank line(s) before the end of "
                                  f"{path}); remove them or pass --skip-blank.")
        if total is not None:
            total += scan.texts
    readers = (read_texts(sys.stdin if path == "-" else path, skip_blank=args.skip_blank, on_skip=skipped.append,
                          text_column=args.text_column, text_pair_column=args.text_pair_column) for path in files)
    return itertools.chain.from_iterable(readers), total, skipped


def _plain(value):
    """NumPy values (embeddings) as JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
