"""``tf-pipeline export``: a SavedModel for TF Serving, strings in and the task's answers out."""

from __future__ import annotations

import argparse

from tf_pipeline.cli.options import add_model_arguments, checkpoint_pipeline, positive_int, say

NAME = "export"


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="export a SavedModel for TF Serving (strings in, answers out)",
        description=(
            "Write OUTPUT/<version>/ in TF Serving's layout: signatures serving_default (text in, tokenized in the "
            "graph; out: label, score, probabilities and logits for text classification, embedding for sentence "
            "embeddings, ...), predict_ids (token ids → the same) and, for text classification, classify (the "
            "Classification API) and serving_pairs (text and text_pair in). --task zero-shot-classification (an NLI "
            "model): serving_default takes sequences and candidate_labels, serving_options also hypothesis_template "
            "and multi_label, and both answer labels and scores, best first (docs/tasks.md). Warm-up requests and "
            "metadata go in assets.extra/. Atomic: built beside the target and renamed. Prints the version folder."
        ),
    )
    parser.add_argument("--output", required=True, help="the model's base folder, e.g. saved_models/sentiment")
    parser.add_argument("--version", type=positive_int, help="version number (default: the next free one)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --version")
    add_model_arguments(parser, task=True)
    return parser


def run(args: argparse.Namespace) -> None:
    from tf_pipeline.export.saved_model.export import check_base_dir, check_target, export_saved_model, next_version

    base = check_base_dir(args.output)  # before the model loads (or the default is built)
    check_target(base, args.version or next_version(base), args.overwrite)
    pipe = checkpoint_pipeline(args)
    say(f"exporting {pipe.source} ({pipe.task.name}) to {base}: tracing and saving the graph takes a minute or so")
    print(export_saved_model(pipe, args.output, version=args.version, max_length=args.max_length,
                             overwrite=args.overwrite))
