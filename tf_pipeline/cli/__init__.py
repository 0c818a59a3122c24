"""`tf-pipeline`: parses arguments, calls the library, writes JSON lines to stdout and messages to stderr.

One module per command, each with its parser (``add_parser``) and what it runs (``run``); they are
thin doors onto the library's functions.

Example:
    $ tf-pipeline predict "I love it" "I hate it" --top-k all
    $ tf-pipeline predict --input reviews.txt --batch-size 64 > labels.jsonl
    $ tf-pipeline predict --task sentence-embeddings --model MODEL "a text"
    $ tf-pipeline walkthrough
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import warnings
from typing import Sequence

from tf_pipeline import errors
import tf_pipeline.cli.bench as bench
import tf_pipeline.cli.build_default as build_default
import tf_pipeline.cli.convert as convert
import tf_pipeline.cli.evaluate as evaluate
import tf_pipeline.cli.export as export
import tf_pipeline.cli.finetune as finetune
import tf_pipeline.cli.predict as predict
import tf_pipeline.cli.score as score
import tf_pipeline.cli.serving_config as serving_config
import tf_pipeline.cli.verify as verify
import tf_pipeline.cli.walkthrough as walkthrough
from tf_pipeline.cli.options import quiet_tensorflow

COMMANDS = {module.NAME: module for module in (predict, finetune, evaluate, export, verify, build_default, score,
                                                serving_config, convert, bench, walkthrough)}
PASS_THROUGH = {"score"}  # commands that hand unknown options on (to Beam, which checks them)


def build_parser() -> argparse.ArgumentParser:
    """The ``tf-pipeline`` parser, with every command's."""
    parser = argparse.ArgumentParser(
        prog="tf-pipeline",
        description="Hugging Face pipelines as one TensorFlow graph: tokenizer → TF model → post-processing → "
                    "answers, for TF Serving, TFLite and Beam.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's and transformers' logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (2 for a usage or input error, with the message on stderr)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in PASS_THROUGH:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.beam_args = extra
    errors.speak_cli()
    logging.basicConfig(level=logging.WARNING, format="tf-pipeline: %(message)s", stream=sys.stderr)
    logging.getLogger("tf_pipeline").setLevel(logging.INFO)
    logging.captureWarnings(True)
    warnings.formatwarning = lambda message, category, *_: f"{category.__name__}: {message}"
    # tf.keras as tf_keras, the Keras that transformers' TF models are built on: TensorFlow then does
    # not import Keras 3, which imports matplotlib (docs/python.md).
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    quiet_tensorflow(args.verbose)
    try:
        return COMMANDS[args.command].run(args) or 0
    except errors.TFPipelineError as error:
        print(f"tf-pipeline {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    """The ``tf-pipeline`` program: :func:`main`, then exit without the interpreter's last garbage
    collections over TensorFlow's objects (docs/python.md)."""
    code = main()
    gc.freeze()
    sys.exit(code)
