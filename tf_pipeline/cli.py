"""`tf-pipeline`: parses arguments, calls the library, writes JSON lines to stdout and messages to stderr.

Example:
    $ tf-pipeline predict "I love it" "I hate it" --top-k all
    $ tf-pipeline predict --input reviews.txt --batch-size 64 > labels.jsonl
    $ tf-pipeline walkthrough
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import sys
import warnings
from dataclasses import fields
from pathlib import Path
from typing import Iterator, Sequence

from tf_pipeline.benchmark.variants import TEXT_SETS, VARIANTS
from tf_pipeline.errors import TFPipelineError
from tf_pipeline.export.runtimes import RUNTIMES
from tf_pipeline.training.data import SENTIMENT_SPLITS
from tf_pipeline.training.recipe import Recipe

PROGRESS_MIN_TEXTS = 64  # show a progress bar from this many input texts on
CALIBRATION_TEXTS = 200  # int8 calibration texts from the shipped set, unless --calibration-data


def _top_k(value: str) -> int | str:
    return "all" if value.lower() in {"all", "none"} else _positive_int(value)


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _positive_ints(value: str) -> list[int]:
    """Comma-separated positive integers, e.g. ``1,8,32``."""
    return [_positive_int(part.strip()) for part in value.split(",") if part.strip()] or [_positive_int(value)]


def _add_model_arguments(parser: argparse.ArgumentParser, exports: bool = False) -> None:
    parser.add_argument(
        "--model",
        help="hub id or local checkpoint folder (default: the embedded sentiment model)"
             + ("; or a SavedModel export folder or a .tflite file, which need no checkpoint" if exports else ""),
    )
    parser.add_argument(
        "--max-length", type=_positive_int, help="truncate texts to this many tokens (default: the model's limit)"
    )
    if exports:
        parser.add_argument(
            "--runtime", choices=RUNTIMES, default="tf",
            help="tf: the TensorFlow graph (default); tflite: LiteRT float32; tflite-int8: LiteRT with int8 weights, "
                 "the fastest on CPU (labels agree with float32 on 99.4%% of the benchmark's texts). A "
                 "checkpoint is converted once (seconds to a minute) and the .tflite cached; the answers keep the "
                 "same format",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tf-pipeline",
        description="Hugging Face text classification as one TensorFlow graph: tokenizer → TF model → softmax → labels.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's and transformers' logs")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    predict = commands.add_parser(
        "predict",
        help="classify texts, one JSON line per text",
        description=(
            "Classify texts given as arguments, or one per line from --input FILE or standard input. "
            "Writes one JSON line per text to stdout, in input order: {\"label\", \"score\"} without "
            "--top-k, or a list of them, best first, with --top-k."
        ),
    )
    predict.add_argument("texts", nargs="*", help="texts to classify (default: read lines from --input or stdin)")
    predict.add_argument("--input", "-i", help="file with one text per line (or .jsonl with a \"text\" field); '-' for stdin")
    predict.add_argument("--output", "-o", help="write the JSON lines to this file instead of stdout (complete or not at all)")
    predict.add_argument(
        "--top-k", type=_top_k,
        help="how many labels per text, best first; 'all' for every label (default: the best one, as a dict)",
    )
    predict.add_argument("--batch-size", type=_positive_int, default=32, help="texts per forward pass (default: 32)")
    predict.add_argument(
        "--function", choices=["softmax", "sigmoid", "none"],
        help="applied to the logits (default: softmax, or sigmoid for multi-label models)",
    )
    predict.add_argument(
        "--xla", action="store_true",
        help="compile with XLA (fixed length buckets, up to 39 shapes); measured no faster than the default "
             "graph on 2 cores, after seconds of compiling (docs/benchmark.md)",
    )
    _add_model_arguments(predict, exports=True)

    tune = commands.add_parser(
        "finetune",
        help="fine-tune a model on a labelled CSV or JSONL file (Keras fit)",
        description=(
            "Fine-tune with Keras compile/fit on a CSV (header with text,label) or JSONL ({\"text\", \"label\"} per "
            "line) file. Labels are names or integer ids. The defaults are the recipe that built the default model "
            "(AdamW, 10%% warm-up then linear decay, texts of similar length batched together; docs/training.md). "
            "Writes a standard HF checkpoint that --model loads, plus metrics.json; prints the metrics as JSON."
        ),
    )
    tune.add_argument("--data", required=True, help="training data, CSV or JSONL")
    tune.add_argument("--output", required=True, help="folder for the fine-tuned checkpoint (e.g. saved_models/NAME)")
    tune.add_argument("--model", help="checkpoint to start from (default: the embedded MiniLM-L6 encoder)")
    held_out = tune.add_mutually_exclusive_group()
    held_out.add_argument("--validation-split", type=float, default=0.1, help="share of --data held out for validation (default: 0.1)")
    held_out.add_argument("--validation-data", help="a separate validation file instead of --validation-split")
    recipe = tune.add_argument_group("recipe (defaults: the default model's)")
    recipe.add_argument("--epochs", type=_positive_int, default=Recipe.epochs, help="epochs of the classifier (default: %(default)s)")
    recipe.add_argument("--batch-size", type=_positive_int, default=Recipe.batch_size, help="default: %(default)s")
    recipe.add_argument("--learning-rate", type=float, default=Recipe.learning_rate, help="peak AdamW learning rate (default: %(default)s)")
    recipe.add_argument("--warmup", type=float, default=Recipe.warmup, help="share of steps warming up, then linear decay to 0 (default: %(default)s)")
    recipe.add_argument("--weight-decay", type=float, default=Recipe.weight_decay, help="AdamW weight decay (default: %(default)s)")
    recipe.add_argument("--label-smoothing", type=float, default=Recipe.label_smoothing, help="default: %(default)s")
    recipe.add_argument("--max-length", type=_positive_int, default=Recipe.max_length, help="truncate texts to this many tokens (default: %(default)s)")
    recipe.add_argument("--freeze-embeddings", action=argparse.BooleanOptionalAction, default=Recipe.freeze_embeddings,
                        help="keep the token embeddings as pretrained (default: %(default)s)")
    recipe.add_argument("--frozen-layers", type=int, default=Recipe.frozen_layers,
                        help="keep this many of the lowest encoder layers as pretrained (default: %(default)s)")
    recipe.add_argument("--contrastive-epochs", type=int, default=Recipe.contrastive_epochs,
                        help="SetFit-style stage first: epochs pulling same-label texts together (default: %(default)s)")
    recipe.add_argument("--weight-average", type=float, default=Recipe.weight_average,
                        help="keep a moving average of the weights with this momentum, e.g. 0.99 (default: %(default)s = off)")
    recipe.add_argument("--patience", type=_positive_int, default=Recipe.patience,
                        help="early stopping: stop after N epochs without lower validation loss and keep the best epoch "
                             "(default: off, every epoch runs)")
    recipe.add_argument("--seed", type=int, default=Recipe.seed, help="random seed (default: %(default)s)")
    tune.add_argument("--overwrite", action="store_true", help="replace --output if it exists")

    evaluate = commands.add_parser(
        "evaluate",
        help="accuracy of a model on a labelled CSV or JSONL file",
        description=(
            "Classify a labelled file, or a split of the shipped sentiment set, and print accuracy as JSON. Labels must be "
            "the model's own label names (or integer ids)."
        ),
    )
    source = evaluate.add_mutually_exclusive_group()
    source.add_argument("--data", help="labelled CSV or JSONL")
    source.add_argument("--split", choices=SENTIMENT_SPLITS, default="heldout",
                        help="a split of the shipped sentiment set (default: heldout; 'evaluation' is the independent set)")
    evaluate.add_argument("--batch-size", type=_positive_int, default=32, help="default: 32")
    _add_model_arguments(evaluate, exports=True)

    export = commands.add_parser(
        "export",
        help="export a SavedModel for TF Serving (strings in, labels out)",
        description=(
            "Write OUTPUT/<version>/ in TF Serving's layout: signatures serving_default (text → label, score, "
            "probabilities, logits, tokenized in the graph), predict_ids (token ids → the same) and classify "
            "(the Classification API), with warm-up requests and metadata in assets.extra/. Atomic: built beside "
            "the target and renamed. Prints the version folder."
        ),
    )
    export.add_argument("--output", required=True, help="the model's base folder, e.g. saved_models/sentiment")
    export.add_argument("--version", type=_positive_int, help="version number (default: the next free one)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing --version")
    _add_model_arguments(export)

    verify = commands.add_parser(
        "verify",
        help="load an export as TF Serving does and compare it with the eager pipeline",
        description=(
            "In a fresh process that never imports transformers, load EXPORT_DIR with the TF1 session loader and "
            "the serve tag, audit its ops (core TensorFlow and tensorflow-text only) and say which TF Serving "
            "releases can load it (2.12-2.19 link tensorflow-text 2.12.1, 2.20 on link 2.20), run every signature "
            "and compare with the eager pipeline on the source checkpoint (labels equal, probabilities within 1e-5) "
            "or, once that is gone, with the export's own predict_ids on its carried tokenizer's ids. "
            "Also runs saved_model_cli show --all. Exit code 1 if a check fails."
        ),
    )
    verify.add_argument("export_dir", help="a version folder, e.g. saved_models/sentiment/1 (or the base folder: its latest)")
    verify.add_argument("--model", help="checkpoint to compare with (default: the export's source, if it still exists)")
    verify.add_argument("--tf-serving", metavar="VERSION",
                        help="fail unless this TF Serving release (e.g. 2.15) can load the export")

    build = commands.add_parser(
        "build-default",
        help="build the embedded default model now (otherwise the first use builds it)",
        description=(
            "Fine-tune the shipped MiniLM-L6 encoder on the shipped sentiment set with the default recipe (about "
            "5 minutes on 2 cores, seeded) and cache it; prints the folder and its accuracy. Does nothing if it is "
            "already built, unless --rebuild."
        ),
    )
    build.add_argument("--rebuild", action="store_true", help="build again even if it is already there")

    config = commands.add_parser(
        "serving-config",
        help="write TF Serving's models.config (and a batching parameters file)",
        description="Write a model_config_list for one or several exported models, and optionally batching parameters.",
    )
    config.add_argument("model_dirs", nargs="+", help="export base folders, e.g. saved_models/sentiment")
    config.add_argument("--output", default="saved_models/models.config", help="default: saved_models/models.config")
    config.add_argument("--versions", default="latest", help="'latest' (default), 'all', or numbers like 1,2")
    config.add_argument("--base-path-prefix", help="the folders' parent inside the server, e.g. /models for Docker")
    config.add_argument("--batching", metavar="FILE", help="also write batching parameters to FILE")

    convert = commands.add_parser(
        "convert",
        help="convert to TFLite (ids or strings in), quantized or not, and report agreement and accuracy",
        description=(
            "Convert a checkpoint (--model) or a SavedModel export (--saved-model, no checkpoint needed) to one "
            ".tflite file that takes token ids or raw text (--flavour), with dynamic batch and length, and carries "
            "its labels, metadata and tokenizer (a zip appended to the flatbuffer: unzip -l OUTPUT lists them). "
            "Prints a report (size, top-1 agreement and largest probability difference with the TF pipeline on the "
            "held-out texts, and accuracy when their labels are the model's) and writes it to OUTPUT.report.json."
        ),
    )
    source = convert.add_mutually_exclusive_group()
    source.add_argument("--model", help="checkpoint folder or hub id (default: the embedded sentiment model)")
    source.add_argument("--saved-model", help="a SavedModel export (version or base folder), converted on its own")
    convert.add_argument("--output", required=True, help="the .tflite file to write")
    convert.add_argument("--quantize", choices=["none", "float16", "dynamic-int8", "int8"], default="none",
                         help="weights (and for int8 activations) precision (default: none = float32)")
    convert.add_argument("--flavour", choices=["ids", "strings"], default="ids",
                         help="ids: token ids in, builtins only (default); strings: text in, tokenized inside "
                              "with tensorflow_text's TFLite kernels (WordPiece models)")
    convert.add_argument("--calibration-data", help="texts for int8 calibration, one per line (default: the shipped sentiment set)")
    convert.add_argument("--eval-data", help="labelled CSV/JSONL for the report (default: the shipped held-out split)")
    convert.add_argument("--max-length", type=_positive_int, help="truncate texts to this many tokens")

    bench = commands.add_parser(
        "bench",
        help="benchmark the ways to run the model side by side; writes JSON and a PNG chart",
        description=(
            "Measure, each in its own process and on the same weights: ours (the tf_pipeline graph, length-sorted "
            "and in input order; with XLA; the exported SavedModel, strings-in and ids-in; TFLite float32 and "
            "dynamic-int8) and the peers: HF's TF pipeline (eager) and, with --torch-python, HF's PyTorch pipeline, "
            "optimum's ONNX Runtime pipeline and ONNX Runtime fp32 and dynamic-int8 sessions. Per text set (mixed: "
            "mixed-length reviews; short: the 792 shipped held-out and evaluation sentences): throughput per batch "
            "size, p50/p95 latency at batch 1, peak memory per runner, ratios of ours to every peer, int8 label "
            "agreement, and the speed targets met or missed; plus SavedModel cold start. Takes ~45 minutes."
        ),
    )
    bench.add_argument("--texts", type=_positive_int,
                       help="texts per set (default: 512 mixed-length texts; all 792 short sentences)")
    bench.add_argument("--text-sets", default=",".join(TEXT_SETS),
                       help="comma-separated subset of: " + ", ".join(TEXT_SETS) + " (default: both)")
    bench.add_argument("--slow-texts", type=_positive_int, default=128,
                       help="texts for HF's eager TF pipeline, which is slow (default: 128)")
    bench.add_argument("--batch-sizes", type=_positive_ints, default=[1, 8, 32, 128], help="comma-separated (default: 1,8,32,128)")
    bench.add_argument("--variants", help="comma-separated subset of: " + ", ".join(VARIANTS)
                       + " (default: all; the last four only with --torch-python)")
    bench.add_argument("--torch-python", metavar="PYTHON",
                       help="an interpreter with torch, transformers, onnxruntime and optimum-onnx (its own venv: "
                            ".venv-torch/bin/python from scripts/setup_torch.sh) to add the PyTorch and ONNX Runtime "
                            "peers on the same weights")
    bench.add_argument("--output", default="benchmarks/results.json", help="default: benchmarks/results.json (+ .png)")
    _add_model_arguments(bench)

    score = commands.add_parser(
        "score",
        help="score files of any size on Apache Beam (DirectRunner here; Dataflow, Flink, Spark) with an export",
        description=(
            "Read every file matching --input (text: one text a line; .jsonl/.ndjson: a \"text\" field, and \"id\" "
            "kept if present; local, gs:// or s3:// where Beam's extras are installed), classify each text with the "
            "SavedModel export --model (loaded once per worker, RunInference), and write sharded PREFIX-*.jsonl (or "
            ".csv): text, id, label, score. Bad lines (blank, not UTF-8, not JSON, no text) go to "
            "PREFIX-errors-*.jsonl with file, line and reason; the job goes on. Other options are Beam pipeline "
            "options, passed through (e.g. --project, --region, --temp_location for Dataflow; --flink_master). "
            "Prints a summary: texts scored and rejected, seconds. Needs the [beam] extra."
        ),
    )
    score.add_argument("--model", required=True, help="a SavedModel export (version or base folder) from tf-pipeline export")
    score.add_argument("--input", required=True, help="a file pattern, e.g. 'reviews/*.txt' or gs://bucket/in-*.jsonl")
    score.add_argument("--output", required=True, help="output prefix, e.g. scored/reviews (→ scored/reviews-00000-of-00002.jsonl)")
    score.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="output format (default: jsonl)")
    score.add_argument("--runner", default="DirectRunner",
                       help="DirectRunner (default: multi-process, one worker per core), DataflowRunner, FlinkRunner, "
                            "SparkRunner, or any runner Beam knows")
    score.add_argument("--workers", type=_positive_int, help="DirectRunner worker processes (default: the number of cores)")
    score.add_argument("--max-batch-size", type=_positive_int, default=64,
                       help="largest batch per model call; Beam grows batches from 8 up to it (default: 64)")

    walk = commands.add_parser(
        "walkthrough",
        help="show each step on the seed's two sentences",
        description="Print token ids, attention masks, shapes, logits, probabilities and labels step by step.",
    )
    walk.add_argument("texts", nargs="*", help="texts to walk through (default: the seed's two sentences)")
    _add_model_arguments(walk)
    return parser


def _quiet_tensorflow(verbose: bool) -> None:
    """Import TensorFlow with its C++ start-up noise (CUDA probing, absl) sent to /dev/null."""
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import absl.logging
        import tensorflow as tf
        import transformers

        tf.config.list_physical_devices()  # device probing logs too
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)
    absl.logging.set_verbosity(absl.logging.ERROR)
    transformers.logging.set_verbosity_error()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _read_texts(args: argparse.Namespace) -> Iterator[str]:
    from tf_pipeline.pipeline.text_files import read_texts

    if args.texts:
        return iter(args.texts)
    if args.input in (None, "-"):
        if args.input is None and sys.stdin.isatty():
            raise SystemExit("tf-pipeline predict: give texts as arguments, or --input FILE, or pipe lines in.")
        return read_texts(sys.stdin)
    return read_texts(args.input)


def run_predict(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from tf_pipeline.api import load_pipeline
    from tf_pipeline.pipeline.text_files import count_lines

    texts = _read_texts(args)  # a missing input file fails here, before the model loads
    total = len(args.texts) if args.texts else None if args.input in (None, "-") else count_lines(args.input)
    pipe = load_pipeline(args.model, max_length=args.max_length, jit_compile=args.xla, runtime=args.runtime)
    legacy = args.top_k is None
    quiet = total is not None and total < PROGRESS_MIN_TEXTS
    results = pipe.stream(
        texts,
        top_k=1 if legacy else None if args.top_k == "all" else args.top_k,
        function_to_apply=args.function,
        batch_size=args.batch_size,
    )
    with _output(args.output) as out, tqdm(total=total, unit="text", file=sys.stderr,
                                            disable=quiet or (None if args.output is None else False)) as progress:
        for ranked in results:
            out.write(json.dumps(ranked[0] if legacy else ranked, ensure_ascii=False) + "\n")
            progress.update()


@contextlib.contextmanager
def _output(path: str | None):
    """stdout, or a file written beside its final name and renamed when complete."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    from tf_pipeline.atomic import atomic_file

    with atomic_file(Path(path)) as file:
        yield file


def _checkpoint_pipeline(args: argparse.Namespace, **options):
    """The pipeline of a checkpoint (or the default); exports are refused with what to use instead."""
    from tf_pipeline.api import is_export_path, load_pipeline

    if args.model is not None and is_export_path(args.model):
        raise TFPipelineError(f"{args.command} needs a checkpoint, and {args.model} is an export; use exports with "
                              "predict, evaluate, verify, score or convert --saved-model.")
    return load_pipeline(args.model, **options)


def run_walkthrough(args: argparse.Namespace) -> None:
    from tf_pipeline.pipeline.walkthrough import SEED_SENTENCES, walkthrough

    pipe = _checkpoint_pipeline(args, max_length=args.max_length)
    print(walkthrough(pipe, args.texts or SEED_SENTENCES))


def run_finetune(args: argparse.Namespace) -> None:
    from tf_pipeline.training.finetune import finetune

    recipe = Recipe(**{item.name: getattr(args, item.name) for item in fields(Recipe)})
    result = finetune(
        args.data, args.output, model=args.model, recipe=recipe, validation_split=args.validation_split,
        validation_data=args.validation_data, overwrite=args.overwrite,
    )
    print(json.dumps(result.metrics()))


def run_evaluate(args: argparse.Namespace) -> None:
    from tf_pipeline.training.data import read_labelled, sentiment_set
    from tf_pipeline.training.evaluate import evaluate
    from tf_pipeline.api import load_pipeline

    examples = read_labelled(args.data) if args.data else sentiment_set(args.split)
    pipe = load_pipeline(args.model, max_length=args.max_length, runtime=args.runtime)
    print(json.dumps(evaluate(pipe, examples, batch_size=args.batch_size)))


def run_export(args: argparse.Namespace) -> None:
    from tf_pipeline.export.saved_model import check_base_dir, export_saved_model

    check_base_dir(args.output)  # before the model loads (or the default is built)
    pipe = _checkpoint_pipeline(args)
    print(export_saved_model(pipe, args.output, version=args.version, max_length=args.max_length, overwrite=args.overwrite))


def run_verify(args: argparse.Namespace) -> int:
    from tf_pipeline.export.verify import verify_export

    report = verify_export(args.export_dir, model=args.model, tf_serving=args.tf_serving)
    print(report)
    return 0 if report.ok else 1


def run_build_default(args: argparse.Namespace) -> None:
    from tf_pipeline.checkpoints.locations import default_model_dir
    from tf_pipeline.training.default_model import build_default_model, ensure_default_model

    folder = default_model_dir()
    if args.rebuild:
        build_default_model(folder, overwrite=True)
    else:
        ensure_default_model()
    metrics = json.loads((folder / "metrics.json").read_text())
    print(json.dumps({"folder": str(folder), "build_seconds": metrics.get("build_seconds"),
                      **{split: metrics[split]["accuracy"] for split in ("validation", "heldout", "evaluation")
                         if split in metrics}}))


def run_serving_config(args: argparse.Namespace) -> None:
    from tf_pipeline.export.serving_config import batching_config_text, model_config_text, write_text_atomically

    text = model_config_text(args.model_dirs, versions=args.versions, base_path_prefix=args.base_path_prefix)
    print(write_text_atomically(args.output, text))
    if args.batching:
        print(write_text_atomically(args.batching, batching_config_text()))


def run_convert(args: argparse.Namespace) -> None:
    from tf_pipeline.export.tflite_convert import convert_to_tflite
    from tf_pipeline.export.tflite_runtime import TFLitePipeline
    from tf_pipeline.training.data import read_labelled, sentiment_set
    from tf_pipeline.training.evaluate import tflite_report

    if args.saved_model:
        from tf_pipeline.export.saved_model_runtime import SavedModelPipeline

        if args.max_length:
            raise TFPipelineError("--max-length cannot change an export; it keeps the length it was exported with.")
        source = SavedModelPipeline(args.saved_model)
    else:
        source = _checkpoint_pipeline(args, max_length=args.max_length)
    if args.calibration_data:
        calibration = [line for line in Path(args.calibration_data).read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        calibration = [example.text for example in sentiment_set("train")[:CALIBRATION_TEXTS]]
    path = convert_to_tflite(source, args.output, quantize=args.quantize, flavour=args.flavour,
                             representative_texts=calibration)
    examples = read_labelled(args.eval_data) if args.eval_data else sentiment_set("heldout")
    report = tflite_report(TFLitePipeline(path), source, examples)
    Path(f"{path}.report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


def run_score(args: argparse.Namespace) -> None:
    from tf_pipeline.export.layout import latest_version_dir, read_metadata

    read_metadata(latest_version_dir(args.model))  # not an export: a clear error before Beam starts
    beam_args = [f"--runner={args.runner}"]
    if args.runner == "DirectRunner":
        workers = args.workers or len(os.sched_getaffinity(0))
        beam_args += ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    beam_args += args.beam_args  # the user's Beam options come last, so they win
    if not args.verbose:  # Beam's notes on optional cloud clients and its workers' start-up; -v shows them
        logging.getLogger().setLevel(logging.ERROR)
        beam_args.append("--default_sdk_harness_log_level=ERROR")
    try:
        from tf_pipeline.beam.transforms import score_files
    except ImportError as error:
        raise TFPipelineError(f"score needs Apache Beam: pip install 'tf_pipeline[beam]' ({error}).") from error
    print(json.dumps(score_files(str(args.model), args.input, args.output, output_format=args.format,
                                 beam_args=beam_args, max_batch_size=args.max_batch_size)))


def run_bench(args: argparse.Namespace) -> None:
    from tf_pipeline.benchmark.run import choose_variants, run_benchmark, text_sets, write_results

    variants = [name.strip() for name in args.variants.split(",") if name.strip()] if args.variants else None
    variants, torch_python = choose_variants(variants, args.torch_python)  # fails fast, before loading the model
    sets = text_sets([name.strip() for name in args.text_sets.split(",") if name.strip()], args.texts)
    pipe = _checkpoint_pipeline(args, max_length=args.max_length)
    results = run_benchmark(pipe, sets, batch_sizes=args.batch_sizes, variants=variants,
                            slow_texts=args.slow_texts, torch_python=torch_python)
    print(write_results(results, args.output))


COMMANDS = {
    "predict": run_predict,
    "finetune": run_finetune,
    "evaluate": run_evaluate,
    "export": run_export,
    "verify": run_verify,
    "build-default": run_build_default,
    "score": run_score,
    "serving-config": run_serving_config,
    "convert": run_convert,
    "bench": run_bench,
    "walkthrough": run_walkthrough,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, beam_args = parser.parse_known_args(argv)
    if beam_args and args.command != "score":
        parser.error(f"unrecognized arguments: {' '.join(beam_args)}")
    args.beam_args = beam_args
    logging.basicConfig(level=logging.WARNING, format="tf-pipeline: %(message)s", stream=sys.stderr)
    logging.getLogger("tf_pipeline").setLevel(logging.INFO)
    logging.captureWarnings(True)
    warnings.formatwarning = lambda message, category, *_: f"{category.__name__}: {message}"
    # tf.keras as tf_keras, the Keras that transformers' TF models are built on: TensorFlow then does
    # not import Keras 3, which imports matplotlib (0.6 s of every command's start; docs/python.md).
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    _quiet_tensorflow(args.verbose)
    try:
        return COMMANDS[args.command](args) or 0
    except TFPipelineError as error:
        print(f"tf-pipeline {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    """The ``tf-pipeline`` program: :func:`main`, then exit without the interpreter's last garbage
    collections over TensorFlow's objects (0.7 s of every command; docs/python.md)."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
