"""``tf-pipeline convert``: one self-contained .tflite file, and how far it strays from the TF graph."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tf_pipeline.cli.options import checkpoint_pipeline, positive_int, say
from tf_pipeline.errors import TFPipelineError
from tf_pipeline.export.runtimes import FLAVOURS, QUANTIZATIONS
from tf_pipeline.tasks import task_names

NAME = "convert"
CALIBRATION_TEXTS = 200  # int8 calibration texts from the shipped set, unless --calibration-data


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="convert to TFLite (ids or strings in), quantized or not, and report agreement and accuracy",
        description=(
            "Convert a checkpoint (--model) or a SavedModel export (--saved-model, no checkpoint needed) to one "
            ".tflite file that takes token ids or raw text (--flavour), with dynamic batch and length, and carries "
            "its task, metadata and tokenizer (a zip appended to the flatbuffer: unzip -l OUTPUT lists them). "
            "Prints a report and writes it to OUTPUT.report.json: size and, on the held-out texts, agreement with "
            "the TF graph (top-1 labels, largest probability difference and accuracy for text classification; "
            "cosine similarity for sentence embeddings)."
        ),
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", help="checkpoint folder or hub id (default: the embedded sentiment model; 'small': the small one)")
    source.add_argument("--saved-model", help="a SavedModel export (version or base folder), converted on its own")
    parser.add_argument("--task", choices=task_names(), help="the checkpoint's task (default: what its config says)")
    parser.add_argument("--output", required=True, help="the .tflite file to write")
    parser.add_argument("--quantize", choices=QUANTIZATIONS, default="none",
                        help="weights (and for int8 activations) precision (default: none = float32); dynamic-int8 "
                             "keeps accuracy best of the int8 modes (docs/tflite.md)")
    parser.add_argument("--flavour", choices=FLAVOURS, default="ids",
                        help="ids: token ids in, builtins only (default); strings: text in, tokenized inside "
                             "with tensorflow_text's TFLite kernels (WordPiece models)")
    parser.add_argument("--calibration-data", help="texts for int8 calibration, one per line (default: the shipped sentiment set)")
    parser.add_argument("--eval-data", help="labelled CSV/TSV/JSONL for the report (default: the shipped held-out split)")
    parser.add_argument("--max-length", type=positive_int, help="truncate texts to this many tokens")
    return parser


def run(args: argparse.Namespace) -> None:
    from tf_pipeline.export.tflite.convert import check_options, convert_to_tflite
    from tf_pipeline.export.tflite.runtime import TFLitePipeline
    from tf_pipeline.training.data import read_labelled, sentiment_set
    from tf_pipeline.training.evaluate import tflite_report

    calibration = _calibration_texts(args)
    check_options(args.quantize, args.flavour, calibration)  # before anything loads
    if args.saved_model:
        from tf_pipeline.export.saved_model.runtime import SavedModelPipeline

        if args.max_length or args.task:
            raise TFPipelineError("--max-length and --task cannot change an export; it keeps what it was exported with.")
        source = SavedModelPipeline(args.saved_model)
    else:
        source = checkpoint_pipeline(args, max_length=args.max_length)
    say(f"converting {source.source} ({source.task.name}, quantize {args.quantize}) to TFLite: up to a few minutes")
    path = convert_to_tflite(source, args.output, quantize=args.quantize, flavour=args.flavour,
                             representative_texts=calibration)
    say(f"wrote {path}; comparing it with the TF graph on the held-out texts")
    examples = read_labelled(args.eval_data) if args.eval_data else sentiment_set("heldout")
    report = tflite_report(TFLitePipeline(path), source, examples)
    Path(f"{path}.report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


def _calibration_texts(args: argparse.Namespace) -> list[str] | None:
    if args.quantize != "int8":
        return None
    from tf_pipeline.training.data import sentiment_set

    if args.calibration_data:
        path = Path(args.calibration_data)
        if not path.is_file():
            raise TFPipelineError(f"--calibration-data {path}: no such file.")
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [example.text for example in sentiment_set("train")[:CALIBRATION_TEXTS]]
