"""``tf-pipeline serving-config``: TF Serving's models.config (and batching parameters)."""

from __future__ import annotations

import argparse

NAME = "serving-config"


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="write TF Serving's models.config (and a batching parameters file)",
        description="Write a model_config_list for one or several exported models, and optionally batching parameters.",
    )
    parser.add_argument("model_dirs", nargs="+", help="export base folders (the parents of the version folders), "
                                                      "e.g. saved_models/sentiment")
    parser.add_argument("--output", default="saved_models/models.config", help="default: saved_models/models.config")
    parser.add_argument("--versions", default="latest", help="'latest' (default), 'all', or numbers like 1,2")
    parser.add_argument("--base-path-prefix", help="the folders' parent inside the server, e.g. /models for Docker")
    parser.add_argument("--batching", metavar="FILE", help="also write batching parameters to FILE")
    return parser


def run(args: argparse.Namespace) -> None:
    from tf_pipeline.export.saved_model.serving_config import batching_config_text, model_config_text, write_text_atomically

    text = model_config_text(args.model_dirs, versions=args.versions, base_path_prefix=args.base_path_prefix)
    print(write_text_atomically(args.output, text))
    if args.batching:
        print(write_text_atomically(args.batching, batching_config_text()))
