"""``tf-pipeline bench``: the ways to run the model side by side; JSON and a PNG chart."""

from __future__ import annotations

import argparse

from tf_pipeline.benchmark.variants import DEFAULT_TEXT_SETS, TEXT_SETS, VARIANTS
from tf_pipeline.cli.options import add_model_arguments, checkpoint_pipeline, positive_int, positive_ints

NAME = "bench"
DEFAULT_BATCH_SIZES = [1, 8, 32, 128]


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        NAME,
        help="benchmark the ways to run the model side by side; writes JSON and a PNG chart",
        description=(
            "Measure, each in its own process and on the same weights: ours (the tf_pipeline graph, length-sorted "
            "and in input order; with XLA; the exported SavedModel, strings-in and ids-in; TFLite float32 and "
            "dynamic-int8) and the peers: HF's TF pipeline (eager) and, with --torch-python, HF's PyTorch pipeline, "
            "optimum's ONNX Runtime pipeline and ONNX Runtime fp32 and dynamic-int8 sessions. Per text set (mixed: "
            "mixed-length reviews; short: the shipped held-out and evaluation sentences): throughput per batch "
            "size, p50/p95 latency at batch 1, peak memory per runner, ratios of ours to every peer, int8 label "
            "agreement, and the speed targets met or missed; plus SavedModel cold start. Takes most of an hour."
        ),
    )
    parser.add_argument("--texts", type=positive_int,
                        help="texts per set (default: 512 mixed-length texts; all the short sentences)")
    parser.add_argument("--text-sets", default=",".join(DEFAULT_TEXT_SETS),
                        help="comma-separated subset of: " + ", ".join(TEXT_SETS) + " (default: "
                             + ",".join(DEFAULT_TEXT_SETS) + "; pairs: query-passage text pairs, as a reranker reads them)")
    parser.add_argument("--slow-texts", type=positive_int, default=128,
                        help="texts for HF's eager TF pipeline, which is slow (default: 128)")
    parser.add_argument("--batch-sizes", type=positive_ints, default=DEFAULT_BATCH_SIZES,
                        help="comma-separated (default: 1,8,32,128)")
    parser.add_argument("--variants", help="comma-separated subset of: " + ", ".join(VARIANTS)
                        + " (default: all; the last four only with --torch-python)")
    parser.add_argument("--torch-python", metavar="PYTHON",
                        help="an interpreter with torch, transformers, onnxruntime and optimum-onnx (its own venv: "
                             ".venv-torch/bin/python from scripts/setup_torch.sh) to add the PyTorch and ONNX Runtime "
                             "peers on the same weights")
    parser.add_argument("--output", help="default: benchmarks/results.json (+ .png); benchmarks/embeddings.json "
                                         "for --task sentence-embeddings")
    parser.add_argument("--task", choices=("text-classification", "sentence-embeddings"), default="text-classification",
                        help="sentence-embeddings: our runtimes against sentence-transformers on PyTorch and ONNX "
                             "Runtime (--torch-python), on the shipped encoder unless --model, batch sizes 1 and 32 "
                             "unless --batch-sizes, the short sentences")
    add_model_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> None:
    from tf_pipeline.benchmark.run import choose_variants, run_benchmark, text_sets, write_results

    if args.task == "sentence-embeddings":
        return run_embeddings(args)
    variants = [name.strip() for name in args.variants.split(",") if name.strip()] if args.variants else None
    variants, torch_python = choose_variants(variants, args.torch_python)  # fails fast, before loading the model
    sets = text_sets([name.strip() for name in args.text_sets.split(",") if name.strip()], args.texts)
    pipe = checkpoint_pipeline(args, max_length=args.max_length)
    results = run_benchmark(pipe, sets, batch_sizes=args.batch_sizes, variants=variants,
                            slow_texts=args.slow_texts, torch_python=torch_python)
    print(write_results(results, args.output or "benchmarks/results.json"))


def run_embeddings(args: argparse.Namespace) -> None:
    from tf_pipeline.benchmark.embeddings import run_embeddings_benchmark, write_embeddings_results
    from tf_pipeline.benchmark.run import short_texts
    from tf_pipeline.checkpoints.locations import default_encoder_dir

    texts = short_texts()[:args.texts]
    sizes = [1, 32] if args.batch_sizes == DEFAULT_BATCH_SIZES else args.batch_sizes
    results = run_embeddings_benchmark(args.model or default_encoder_dir(), texts, batch_sizes=sizes,
                                       torch_python=args.torch_python)
    print(write_embeddings_results(results, args.output or "benchmarks/embeddings.json"))
