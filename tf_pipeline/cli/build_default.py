"""``tf-pipeline build-default``: build the embedded default model now."""

from __future__ import annotations

import argparse
import json

NAME = "build-default"


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="build the embedded default model now (otherwise the first use builds it)",
        description=(
            "Fine-tune a shipped encoder on the shipped sentiment set (seeded) and cache it; prints the folder, "
            "the build time and the accuracy. The default: all-mpnet-base-v2, its top layer and head trained "
            "(about 10 minutes on 2 cores). --small: all-MiniLM-L6-v2, fully fine-tuned (about 9 minutes; smaller "
            "and faster, --model small picks it). Does nothing if it is already built, unless --rebuild."
        ),
    )
    parser.add_argument("--small", action="store_true", help="the small default model (MiniLM-L6) instead")
    parser.add_argument("--rebuild", action="store_true", help="build again even if it is already there")
    return parser


def run(args: argparse.Namespace) -> None:
    from tf_pipeline.checkpoints.locations import default_model_dir
    from tf_pipeline.training.default_model import REPORTED_SPLITS, build_default_model, ensure_default_model

    folder = default_model_dir(args.small)
    if args.rebuild:
        build_default_model(folder, small=args.small, overwrite=True)
    else:
        ensure_default_model(small=args.small)
    metrics = json.loads((folder / "metrics.json").read_text())
    print(json.dumps({"folder": str(folder), "build_seconds": metrics.get("build_seconds"),
                      **{split: metrics[split]["accuracy"] for split in REPORTED_SPLITS if split in metrics}}))
