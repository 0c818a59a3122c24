"""``tf-pipeline verify``: load an export as TF Serving does and compare it with the eager pipeline."""

from __future__ import annotations

import argparse

NAME = "verify"


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="load an export as TF Serving does and compare it with the eager pipeline",
        description=(
            "In a fresh process that never imports transformers, load EXPORT_DIR with the TF1 session loader and "
            "the serve tag, audit its ops (core TensorFlow and tensorflow-text only) and say which TF Serving "
            "releases can load it, run every signature and compare each output with the eager pipeline of the "
            "export's task on the source checkpoint (labels equal, numbers within 1e-5) or, once that is gone, "
            "with the export's own predict_ids on its carried tokenizer's ids. Also runs saved_model_cli show "
            "--all. Exit code 1 if a check fails."
        ),
    )
    parser.add_argument("export_dir", help="a version folder, e.g. saved_models/sentiment/1 (or the base folder: its latest)")
    parser.add_argument("--model", help="checkpoint to compare with (default: the export's source, if it still exists)")
    parser.add_argument("--tf-serving", metavar="VERSION",
                        help="fail unless this TF Serving release (e.g. 2.15) can load the export")
    return parser


def run(args: argparse.Namespace) -> int:
    from tf_pipeline.export.saved_model.verify import verify_export

    report = verify_export(args.export_dir, model=args.model, tf_serving=args.tf_serving)
    print(report)
    return 0 if report.ok else 1
