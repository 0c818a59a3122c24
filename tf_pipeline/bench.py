"""Benchmark harness: the ways users run a text classifier, side by side on the same texts and weights.

Variants: HF's TF pipeline (eager), the tf_pipeline graph, the graph with XLA, the exported
SavedModel (strings-in and ids-in), TFLite float32 and dynamic-int8. For each: throughput
through its bulk API at several batch sizes (the SavedModel runs batches in input order, as
a client sending them would); single-text p50/p95 latency. Plus the SavedModel's cold start (new
process → first answer), peak memory, the share of time spent tokenizing, the machine's
matmul peak and the useful-token FLOP/s as a share of it. Results go to a JSON file and a
PNG chart.

Example:
    >>> results = run_benchmark(load_pipeline(), texts=benchmark_texts(512))
"""

from __future__ import annotations

import json
import logging
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from .pipeline import TextClassificationPipeline

logger = logging.getLogger(__name__)

BATCH_SIZES = (1, 8, 32, 128)
VARIANTS = ("hf_tf_pipeline", "tf_pipeline", "tf_pipeline_xla", "saved_model_strings", "saved_model_ids",
            "tflite_float32", "tflite_dynamic_int8")


def benchmark_texts(count: int = 512, seed: int = 0) -> list[str]:
    """Mixed-length English texts: single sentences of the shipped set and reviews of 2-12 of them."""
    from .data import sentiment_set

    sentences = [example.text for split in ("train", "heldout") for example in sentiment_set(split)]
    rng = random.Random(seed)
    texts = []
    for index in range(count):
        parts = 1 if index % 2 == 0 else rng.randint(2, 12)
        texts.append(" ".join(rng.choice(sentences) for _ in range(parts)))
    return texts


def batched(run_batch: Callable[[list[str]], object]) -> Callable[[Sequence[str], int], None]:
    """A runner over all texts from one that classifies a single batch, in input order."""
    def run(texts: Sequence[str], batch_size: int) -> None:
        for start in range(0, len(texts), batch_size):
            run_batch(list(texts[start:start + batch_size]))

    return run


def measure(run: Callable[[Sequence[str], int], object], texts: Sequence[str], batch_size: int) -> float:
    """Texts per second through ``run(texts, batch_size)``, after a warm-up on the first batch."""
    run(list(texts[:batch_size]), batch_size)
    began = time.perf_counter()
    run(list(texts), batch_size)
    return len(texts) / (time.perf_counter() - began)


def latencies_ms(run: Callable[[Sequence[str], int], object], texts: Sequence[str]) -> list[float]:
    """Milliseconds per single-text request."""
    times = []
    for text in texts:
        began = time.perf_counter()
        run([text], 1)
        times.append(1000 * (time.perf_counter() - began))
    return times


def matmul_peak(size: int = 1024, repeats: int = 20) -> float:
    """The machine's dense float32 matmul rate in GFLOP/s (best of three runs)."""
    a = tf.random.normal([size, size])

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, a) * 1e-3
        return x

    chain(a).numpy()
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        chain(a).numpy()
        best = min(best, time.perf_counter() - began)
    return 2 * size ** 3 * repeats / best / 1e9


def flops_per_token(config, tokens_per_text: float) -> float:
    """Forward FLOPs per real token: 2 × non-embedding parameters, plus attention scores and mixing."""
    hidden, layers = config.hidden_size, config.num_hidden_layers
    intermediate = getattr(config, "intermediate_size", 4 * hidden)
    per_layer = 4 * hidden * hidden + 2 * hidden * intermediate  # Q, K, V, output + feed-forward
    return 2 * layers * per_layer + 4 * layers * hidden * tokens_per_text


def _runners(pipe: TextClassificationPipeline, workdir: Path, variants: Sequence[str]) -> dict[str, Callable]:
    import tensorflow_text  # noqa: F401  (the SavedModel's tokenizer ops)

    runners: dict[str, Callable] = {}
    if "hf_tf_pipeline" in variants:
        from transformers import TextClassificationPipeline as HFPipeline

        hf = HFPipeline(model=pipe.model, tokenizer=pipe.tokenizer, framework="tf")
        runners["hf_tf_pipeline"] = lambda texts, size: hf(list(texts), batch_size=size, truncation=True)
    if "tf_pipeline" in variants:
        runners["tf_pipeline"] = lambda texts, size: pipe(list(texts), batch_size=size)
    if "tf_pipeline_xla" in variants:
        from .checkpoint import Checkpoint

        xla = TextClassificationPipeline(Checkpoint(pipe.tokenizer, pipe.model, pipe.config, pipe.source),
                                         max_length=pipe.max_length, jit_compile=True)  # same weights, no reload
        runners["tf_pipeline_xla"] = lambda texts, size: xla(list(texts), batch_size=size)
        runners["tf_pipeline_xla"].shapes_seen = xla.shapes_seen  # XLA compilations, for the report
    if {"saved_model_strings", "saved_model_ids"} & set(variants):
        from .serving import export_saved_model

        loaded = tf.saved_model.load(str(export_saved_model(pipe, workdir / "saved_model")))
        strings, ids = loaded.signatures["serving_default"], loaded.signatures["predict_ids"]
        runners["saved_model_strings"] = batched(lambda batch: strings(text=tf.constant(batch)))
        runners["saved_model_ids"] = batched(lambda batch: ids(**{
            name: value for name, value in pipe.preprocess(batch).items() if name in pipe.input_names}))
    for name, quantize in (("tflite_float32", "none"), ("tflite_dynamic_int8", "dynamic-int8")):
        if name in variants:
            from .tflite import TFLitePipeline, convert_to_tflite

            lite = TFLitePipeline(convert_to_tflite(pipe, workdir / f"{name}.tflite", quantize=quantize),
                                  tokenizer=pipe.tokenizer, num_threads=os.cpu_count())
            runners[name] = lambda texts, size, lite=lite: lite(list(texts), batch_size=size)
    return {name: runners[name] for name in variants if name in runners}


def cold_start_seconds(export_dir: Path) -> float:
    """New Python process → SavedModel loaded → first answer, wall time."""
    code = (
        "import sys, tensorflow as tf, tensorflow_text\n"
        "m = tf.saved_model.load(sys.argv[1])\n"
        "m.signatures['serving_default'](text=tf.constant(['I love it']))['label'].numpy()\n"
    )
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(export_dir)], check=True, capture_output=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.perf_counter() - began


def run_benchmark(
    pipe: TextClassificationPipeline,
    texts: Sequence[str],
    *,
    batch_sizes: Sequence[int] = BATCH_SIZES,
    variants: Sequence[str] = VARIANTS,
    slow_texts: int = 128,
    latency_texts: int = 100,
) -> dict:
    """Measure every variant; HF's eager TF pipeline runs on the first ``slow_texts`` texts only."""
    from tqdm import tqdm

    workdir = Path(tempfile.mkdtemp(prefix="tf_pipeline_bench_"))
    runners = _runners(pipe, workdir, variants)
    encoded = pipe.tokenizer(list(texts), truncation=True, max_length=pipe.max_length)
    tokens = [len(ids) for ids in encoded["input_ids"]]
    results = {"machine": _machine(), "texts": len(texts), "mean_tokens": float(np.mean(tokens)),
               "model": pipe.source, "variants": {}}
    for name, run in tqdm(runners.items(), desc="variants", file=sys.stderr, disable=None):
        subset = list(texts[:slow_texts]) if name == "hf_tf_pipeline" else list(texts)
        entry = {"texts": len(subset), "throughput": {}}
        for batch_size in batch_sizes:
            entry["throughput"][str(batch_size)] = measure(run, subset, batch_size)
        times = latencies_ms(run, subset[:latency_texts])
        entry["latency_ms_p50"] = float(np.percentile(times, 50))
        entry["latency_ms_p95"] = float(np.percentile(times, 95))
        entry["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if hasattr(run, "shapes_seen"):
            entry["xla_compiled_shapes"] = len(run.shapes_seen)
        results["variants"][name] = entry
        logger.info("%s: %s texts/s", name, {k: round(v, 1) for k, v in entry["throughput"].items()})
    _add_ratios(results)
    results["tokenization_share"] = _tokenization_share(pipe, texts)
    if (workdir / "saved_model").is_dir():
        export = next(p for p in (workdir / "saved_model").iterdir() if p.name.isdigit())
        results["saved_model_cold_start_s"] = cold_start_seconds(export)
    peak = matmul_peak()
    results["matmul_peak_gflops"] = peak
    if "tf_pipeline" in results["variants"]:
        rates = results["variants"]["tf_pipeline"]["throughput"]
        best = max(rates.values())
        useful = best * float(np.mean(tokens)) * flops_per_token(pipe.config, float(np.mean(tokens))) / 1e9
        results["useful_gflops_tf_pipeline_best"] = useful
        results["useful_share_of_matmul_peak"] = useful / peak
    return results


def _add_ratios(results: dict) -> None:
    baseline = results["variants"].get("hf_tf_pipeline")
    if not baseline:
        return
    for entry in results["variants"].values():
        entry["ratio_vs_hf_tf"] = {size: rate / baseline["throughput"][size]
                                   for size, rate in entry["throughput"].items() if size in baseline["throughput"]}


def _tokenization_share(pipe: TextClassificationPipeline, texts: Sequence[str], batch_size: int = 32) -> float:
    tokenizing = total = 0.0
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start:start + batch_size])
        began = time.perf_counter()
        inputs = pipe.preprocess(batch)
        middle = time.perf_counter()
        pipe.postprocess(pipe.forward(inputs))
        tokenizing += middle - began
        total += time.perf_counter() - began
    return tokenizing / total


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "tensorflow": tf.__version__}


def write_results(results: dict, output: str | os.PathLike) -> Path:
    """``results.json`` and a throughput chart (``.png`` beside it)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    chart(results, output.with_suffix(".png"))
    return output


def chart(results: dict, path: Path) -> None:
    """Grouped bars: texts/s per variant at each batch size (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(results["variants"])
    sizes = sorted({size for entry in results["variants"].values() for size in entry["throughput"]}, key=int)
    figure, axes = plt.subplots(figsize=(10, 5))
    width = 0.8 / max(len(sizes), 1)
    for offset, size in enumerate(sizes):
        values = [results["variants"][name]["throughput"].get(size, 0) for name in variants]
        axes.bar(np.arange(len(variants)) + offset * width, values, width, label=f"batch {size}")
    axes.set_xticks(np.arange(len(variants)) + width * (len(sizes) - 1) / 2, variants, rotation=20, ha="right")
    axes.set_yscale("log")
    axes.set_ylabel("texts / second")
    axes.set_title(f"{results['texts']} mixed-length texts, {results['machine']['cpus']} CPU cores")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
