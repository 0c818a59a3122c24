"""What the commands share: argument types, the model and task arguments, quiet TensorFlow, outputs.

Choices come from TF-free constants (the task registry, the runtimes, ...), so ``--help`` is quick.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import warnings
from pathlib import Path

from tf_pipeline.errors import TFPipelineError
from tf_pipeline.export.runtimes import RUNTIMES
from tf_pipeline.quiet import LEVEL_VARIABLE, import_tensorflow
from tf_pipeline.tasks import task_names


def positive_int(value: str) -> int:
    """argparse type: an integer ≥ 1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def positive_ints(value: str) -> list[int]:
    """argparse type: comma-separated positive integers, e.g. ``1,8,32``."""
    return [positive_int(part.strip()) for part in value.split(",") if part.strip()] or [positive_int(value)]


def add_model_arguments(parser: argparse.ArgumentParser, *, exports: bool = False, task: bool = False) -> None:
    """``--model``, ``--max-length`` and (``exports``) ``--runtime``, (``task``) ``--task``."""
    parser.add_argument(
        "--model",
        help="hub id or local checkpoint folder (default: the embedded sentiment model; 'small': the small one)"
             + ("; or a SavedModel export folder or a .tflite file, which need no checkpoint" if exports else ""),
    )
    parser.add_argument("--max-length", type=positive_int,
                        help="truncate texts to this many tokens (default: the model's limit)")
    if task:
        parser.add_argument("--task", choices=task_names(),
                            help="what to answer (default: what the model's config or the export's metadata says)")
    if exports:
        parser.add_argument(
            "--runtime", choices=RUNTIMES, default="tf",
            help="tf: the TensorFlow graph (default); tflite: LiteRT float32; tflite-int8: LiteRT with int8 weights, "
                 "the fastest on CPU (docs/benchmark.md has its agreement with float32). A checkpoint is converted "
                 "once and the .tflite cached; the answers keep the same format",
        )


ZERO_SHOT_FLAGS = {"--candidate-labels": "candidate_labels", "--hypothesis-template": "hypothesis_template",
                   "--multi-label": "multi_label"}


def add_zero_shot_arguments(parser: argparse.ArgumentParser) -> None:
    """``--candidate-labels``, ``--hypothesis-template``, ``--multi-label``: zero-shot classification's arguments."""
    group = parser.add_argument_group("zero-shot classification (--task zero-shot-classification, an NLI model)")
    group.add_argument("--candidate-labels", metavar="LABELS",
                       help="the labels to choose from, comma-separated (e.g. 'sport,politics,art')")
    group.add_argument("--hypothesis-template", metavar="TEMPLATE",
                       help="the hypothesis each label is put into, with {} for it (default: 'This example is {}.')")
    group.add_argument("--multi-label", action="store_true",
                       help="score each label on its own (entailment vs contradiction) instead of across labels")


def zero_shot_flags(args: argparse.Namespace) -> dict[str, object]:
    """The zero-shot flags given (flag → value; ``--multi-label`` only when set)."""
    values = {flag: getattr(args, name) for flag, name in ZERO_SHOT_FLAGS.items()}
    values["--multi-label"] = values["--multi-label"] or None
    return {flag: value for flag, value in values.items() if value is not None}


def zero_shot_options(args: argparse.Namespace) -> dict:
    """Zero-shot classification's call arguments from its flags; ``--candidate-labels`` is needed."""
    if args.candidate_labels is None:
        raise TFPipelineError("zero-shot classification needs --candidate-labels (comma-separated).")
    return {ZERO_SHOT_FLAGS[flag]: value for flag, value in zero_shot_flags(args).items()}


def quiet_tensorflow(verbose: bool) -> None:
    """Import TensorFlow with its C++ start-up noise hidden (:func:`tf_pipeline.quiet.import_tensorflow`) and
    its Python loggers at ERROR; the environment keeps ``TF_CPP_MIN_LOG_LEVEL=3``, so processes started
    from here (Beam's workers, which import through the same function) are quiet too."""
    if verbose:
        return
    os.environ.setdefault(LEVEL_VARIABLE, "3")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import_tensorflow(quiet=True)
    import absl.logging
    import transformers

    absl.logging.set_verbosity(absl.logging.ERROR)
    transformers.logging.set_verbosity_error()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


@contextlib.contextmanager
def output(path: str | None):
    """stdout, or a file written beside its final name and renamed when complete."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    from tf_pipeline.atomic import atomic_file

    with atomic_file(Path(path)) as file:
        yield file


def checkpoint_pipeline(args: argparse.Namespace, **options):
    """The pipeline of a checkpoint (or the default) for ``args.task``; exports are refused with what to use instead."""
    from tf_pipeline.api import is_export_path, pipeline

    if args.model is not None and is_export_path(args.model):
        raise TFPipelineError(f"{args.command} needs a checkpoint, and {args.model} is an export; use exports with "
                              "predict, evaluate, verify, score or convert --saved-model.")
    task = getattr(args, "task", None) or ("text-classification" if args.model is None else None)
    return pipeline(task, args.model, **options)


def say(message: str) -> None:
    """A progress note on stderr (the CLI's logger prints ``tf-pipeline: ...``)."""
    logging.getLogger("tf_pipeline.cli").info(message)
