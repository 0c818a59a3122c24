"""TFLitePipeline against a bare LiteRT loop on the same .tflite files (docs/tflite.md).

(a) ``TFLitePipeline(path)(texts, batch_size=B)``; (b) the HF tokenizer on all texts, sorted by token
count, one signature-runner call per batch, NumPy softmax. Texts/s, best of ``--repeats`` after a
warm-up, for each model, text set and batch size. ``--profile`` writes a cProfile of (a) instead.

Example:
    .venv/bin/python scripts/bench_tflite.py --models none dynamic-int8 --sets short mixed --batches 1 8 32 128
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

WORKDIR = Path("/tmp/bench_tflite")


def converted(quantize: str) -> Path:
    """The default model converted once (ids flavour) into WORKDIR."""
    path = WORKDIR / f"{quantize}.tflite"
    if not path.exists():
        from tf_pipeline.api import load_pipeline
        from tf_pipeline.export.tflite.convert import convert_to_tflite

        convert_to_tflite(load_pipeline(), path, quantize=quantize)
    return path


def bare_loop(path: Path, tokenizer, max_length: int, input_names: Sequence[str]) -> Callable:
    """(b): what a hand-written LiteRT app does; returns probabilities in input order."""
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(path), num_threads=len(os.sched_getaffinity(0))).get_signature_runner()
    pad = tokenizer.pad_token_id or 0

    def run(texts: list[str], batch_size: int) -> np.ndarray:
        encoded = tokenizer(texts, truncation=True, max_length=max_length)
        rows = [encoded[name] for name in input_names]
        order = np.argsort([len(ids) for ids in rows[0]], kind="stable")
        out = None
        for start in range(0, len(texts), batch_size):
            picked = order[start:start + batch_size]
            width = max(len(rows[0][i]) for i in picked)
            inputs = {}
            for name, column in zip(input_names, rows):
                array = np.full((len(picked), width), pad if name == "input_ids" else 0, np.int32)
                for row, i in enumerate(picked):
                    array[row, :len(column[i])] = column[i]
                inputs[name] = array
            logits = runner(**inputs)["logits"]
            exp = np.exp(logits - logits.max(axis=1, keepdims=True))
            out = np.empty((len(texts), logits.shape[1]), np.float32) if out is None else out
            out[picked] = exp / exp.sum(axis=1, keepdims=True)
        return out

    return run


def best_rate(run: Callable[[], object], count: int, repeats: int) -> float:
    run()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["none", "dynamic-int8"])
    parser.add_argument("--sets", nargs="+", default=["short", "mixed"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8, 32, 128])
    parser.add_argument("--variants", nargs="+", default=["a", "b"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of (a) at the first model/set/batch here")
    args = parser.parse_args()

    from tf_pipeline.benchmark.run import text_sets
    from tf_pipeline.export.tflite.runtime import TFLitePipeline

    WORKDIR.mkdir(exist_ok=True)
    sets = text_sets(args.sets)
    print(f"{'model':<13}{'set':<7}{'batch':>6}{'(a) pipe':>10}{'(b) bare':>10}{'a/b':>6}", flush=True)
    for quantize in args.models:
        path = converted(quantize)
        lite = TFLitePipeline(path)
        bare = bare_loop(path, lite.tokenizer, lite.max_length, lite.input_names)
        for set_name in args.sets:
            texts = sets[set_name]
            for batch in args.batches:
                if args.profile:
                    lite(texts, batch_size=batch)
                    cProfile.runctx("lite(texts, batch_size=batch)", globals(), locals(), args.profile)
                    pstats.Stats(args.profile).sort_stats("cumulative").print_stats(30)
                    return
                rates = {}
                if "a" in args.variants:
                    rates["a"] = best_rate(lambda: lite(texts, batch_size=batch), len(texts), args.repeats)
                if "b" in args.variants:
                    rates["b"] = best_rate(lambda: bare(texts, batch), len(texts), args.repeats)
                ratio = rates["a"] / rates["b"] if len(rates) == 2 else float("nan")
                print(f"{quantize:<13}{set_name:<7}{batch:>6}{rates.get('a', float('nan')):>10.1f}"
                      f"{rates.get('b', float('nan')):>10.1f}{ratio:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
