"""``tf-pipeline evaluate``: a classifier's accuracy on a labelled file or a shipped split."""

from __future__ import annotations

import argparse
import json

from tf_pipeline.cli.options import add_model_arguments, positive_int
from tf_pipeline.training.data import SENTIMENT_SPLITS

NAME = "evaluate"


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="accuracy of a classifier on a labelled CSV, TSV or JSONL file",
        description=(
            "Classify a labelled file, or a split of the shipped sentiment set, and print accuracy as JSON. Labels "
            "must be the model's own label names (or integer ids). A progress bar goes to stderr."
        ),
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", help="labelled CSV, TSV or JSONL")
    source.add_argument("--split", choices=SENTIMENT_SPLITS, default="heldout",
                        help="a split of the shipped sentiment set (default: heldout; 'evaluation' and 'critics' are the "
                             "independent sets)")
    parser.add_argument("--text-column", default="text", help="the column (or JSON field) with the texts (default: text)")
    parser.add_argument("--label-column", default="label", help="the column (or JSON field) with the labels (default: label)")
    parser.add_argument("--text-pair-column", metavar="NAME",
                        help="text pairs: the column with each example's second text (a JSONL \"text_pair\" field is "
                             "read without it)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="default: 32")
    add_model_arguments(parser, exports=True)
    return parser


def run(args: argparse.Namespace) -> None:
    from tf_pipeline.api import load_pipeline
    from tf_pipeline.training.data import read_labelled, sentiment_set
    from tf_pipeline.training.evaluate import evaluate

    examples = (read_labelled(args.data, text_column=args.text_column, label_column=args.label_column,
                              text_pair_column=args.text_pair_column)
                if args.data else sentiment_set(args.split))
    pipe = load_pipeline(args.model, max_length=args.max_length, runtime=args.runtime)
    print(json.dumps(evaluate(pipe, examples, batch_size=args.batch_size, progress=True)))
