"""``tf-pipeline walkthrough``: each step of the pipeline, printed, on the seed's two sentences."""

from __future__ import annotations

import argparse

from tf_pipeline.cli.options import add_model_arguments, checkpoint_pipeline, say

NAME = "walkthrough"


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="show each step on the seed's two sentences",
        description="Print token ids, attention masks, shapes, logits, probabilities and labels step by step.",
    )
    parser.add_argument("texts", nargs="*", help="texts to walk through (default: the seed's two sentences)")
    add_model_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from tf_pipeline.runners.walkthrough import SEED_SENTENCES, walkthrough

    say("loading the model and tracing its graph (seconds; the first run after a change takes longer)")
    pipe = checkpoint_pipeline(args, max_length=args.max_length)
    print(walkthrough(pipe, args.texts or SEED_SENTENCES))
