"""Benchmark harness: the ways users run a text classifier, side by side on the same texts and weights.

Variants: HF's TF pipeline (eager), the tf_pipeline graph (length-sorted batches, and in input
order), the graph with XLA, the exported SavedModel (strings-in and ids-in), TFLite float32 and
dynamic-int8, and optionally HF's PyTorch pipeline run by another interpreter (``torch_python``).
For each: throughput through its bulk API at several batch sizes (the SavedModel runs batches in
input order, as a client sending them would); single-text p50/p95 latency; useful-token FLOP/s as
a share of the machine's matmul peak. Plus the SavedModel's cold start (new process → first
answer), peak memory, the share of time spent tokenizing, XLA's compile time, and the issue's
targets met or missed. Results go to a JSON file and a PNG chart.

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
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from tf_pipeline import errors
from tf_pipeline.export.layout import latest_version_dir
from tf_pipeline.pipeline.text_classification import TextClassificationPipeline

logger = logging.getLogger(__name__)

BATCH_SIZES = (1, 8, 32, 128)
VARIANTS = ("hf_tf_pipeline", "tf_pipeline", "tf_pipeline_input_order", "tf_pipeline_xla", "saved_model_strings",
            "saved_model_ids", "tflite_float32", "tflite_dynamic_int8")
TORCH_VARIANT = "hf_pt_pipeline"
TARGETS = {"vs_hf_tf": 10.0, "vs_hf_pt_at_batch_32": 1.5, "share_of_matmul_peak": 0.60}


@dataclass
class Variant:
    """One way to run the model: ``run(texts, batch_size)`` classifies all ``texts``.

    ``warm_every_shape``: run all texts once before timing (XLA compiles once per input shape);
    ``compiled_shapes``: how many shapes it has compiled so far.
    """

    run: Callable[[Sequence[str], int], object]
    warm_every_shape: bool = False
    compiled_shapes: Callable[[], int] | None = None


def benchmark_texts(count: int = 512, seed: int = 0) -> list[str]:
    """Mixed-length English texts: single sentences of the shipped set and reviews of 2-12 of them."""
    from tf_pipeline.training.data import sentiment_set

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


def measure(variant: Variant, texts: Sequence[str], batch_size: int) -> tuple[float, float]:
    """Texts per second, and the seconds of the untimed warm-up pass before it.

    The warm-up runs the first batch, or every text for a variant that compiles per shape.
    """
    warm = list(texts) if variant.warm_every_shape else list(texts[:batch_size])
    began = time.perf_counter()
    variant.run(warm, batch_size)
    warm_seconds = time.perf_counter() - began
    began = time.perf_counter()
    variant.run(list(texts), batch_size)
    return len(texts) / (time.perf_counter() - began), warm_seconds


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


def _variants(pipe: TextClassificationPipeline, workdir: Path, names: Sequence[str]) -> dict[str, Variant]:
    import tensorflow_text  # noqa: F401  (the SavedModel's tokenizer ops)

    variants: dict[str, Variant] = {}
    if "hf_tf_pipeline" in names:
        from transformers import TextClassificationPipeline as HFPipeline

        hf = HFPipeline(model=pipe.model, tokenizer=pipe.tokenizer, framework="tf")
        variants["hf_tf_pipeline"] = Variant(lambda texts, size: hf(list(texts), batch_size=size, truncation=True))
    if "tf_pipeline" in names:
        variants["tf_pipeline"] = Variant(lambda texts, size: pipe(list(texts), batch_size=size))
    if "tf_pipeline_input_order" in names:  # no length sorting: what HF's pipelines do
        variants["tf_pipeline_input_order"] = Variant(
            lambda texts, size: list(pipe.stream(texts, batch_size=size, sort_window=1)))
    if "tf_pipeline_xla" in names:
        xla = TextClassificationPipeline(pipe.checkpoint, max_length=pipe.max_length, jit_compile=True)  # same weights, no reload
        variants["tf_pipeline_xla"] = Variant(lambda texts, size: xla(list(texts), batch_size=size),
                                              warm_every_shape=True, compiled_shapes=lambda: len(xla.shapes_seen))
    if {"saved_model_strings", "saved_model_ids"} & set(names):
        from tf_pipeline.export.saved_model import export_saved_model

        loaded = tf.saved_model.load(str(export_saved_model(pipe, workdir / "saved_model")))
        strings, ids = loaded.signatures["serving_default"], loaded.signatures["predict_ids"]
        variants["saved_model_strings"] = Variant(batched(lambda batch: strings(text=tf.constant(batch))))
        variants["saved_model_ids"] = Variant(batched(lambda batch: ids(**{
            name: value for name, value in pipe.preprocess(batch).items() if name in pipe.input_names})))
    for name, quantize in (("tflite_float32", "none"), ("tflite_dynamic_int8", "dynamic-int8")):
        if name in names:
            from tf_pipeline.export.tflite_convert import convert_to_tflite
            from tf_pipeline.export.tflite_runtime import TFLitePipeline

            lite = TFLitePipeline(convert_to_tflite(pipe, workdir / f"{name}.tflite", quantize=quantize),
                                  tokenizer=pipe.tokenizer)
            variants[name] = Variant(lambda texts, size, lite=lite: lite(list(texts), batch_size=size))
    return {name: variants[name] for name in names if name in variants}


def torch_pipeline_entry(torch_python: str, pipe: TextClassificationPipeline, texts: Sequence[str], workdir: Path,
                         *, batch_sizes: Sequence[int], latency_texts: int, check_texts: int = 64) -> dict:
    """HF's PyTorch pipeline on the same weights, run by ``torch_python`` (a venv with torch + transformers).

    The weights are written in PyTorch format first (:mod:`~tf_pipeline.checkpoints.pytorch_format`); the entry records the
    largest score difference from this pipeline on ``check_texts`` texts, as proof of same weights.
    """
    from tf_pipeline.checkpoints.pytorch_format import save_for_pytorch

    torch_python = os.path.abspath(torch_python)  # not resolve(): a venv's python is a symlink to the base one
    if not Path(torch_python).is_file():
        raise errors.InvalidInputError(f"--torch-python {torch_python} is not a file; pass e.g. .venv-torch/bin/python.")
    model_dir = save_for_pytorch(pipe.checkpoint, workdir / "for_torch")
    job, answer = workdir / "torch_job.json", workdir / "torch_answer.json"
    job.write_text(json.dumps({"model": str(model_dir), "texts": list(texts), "batch_sizes": list(batch_sizes),
                               "latency_texts": latency_texts, "check_texts": check_texts}))
    script = Path(__file__).with_name("torch_reference.py")  # a script for the torch venv, not imported here
    done = subprocess.run([torch_python, str(script), str(job), str(answer)], cwd=workdir, capture_output=True,
                          text=True, env={**os.environ, "USE_TF": "0"})
    if done.returncode != 0:
        raise errors.TFPipelineError(f"HF's PyTorch pipeline failed under {torch_python}:\n{done.stderr[-2000:]}")
    measured = json.loads(answer.read_text())
    ours = pipe(list(texts[:check_texts]), top_k=None)
    difference = max(abs(theirs[item["label"]] - item["score"])
                     for theirs, ranked in zip(measured["scores"], ours) for item in ranked)
    return {"texts": len(texts), "throughput": measured["throughput"], **_latency_summary(measured["latencies_ms"]),
            "peak_rss_mb": measured["peak_rss_mb"], "torch": measured["torch"], "torch_threads": measured["threads"],
            "max_score_difference_vs_tf_pipeline": difference}


def _latency_summary(times_ms: Sequence[float]) -> dict:
    return {"latency_ms_p50": float(np.percentile(times_ms, 50)), "latency_ms_p95": float(np.percentile(times_ms, 95))}


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
    torch_python: str | None = None,
) -> dict:
    """Measure every variant; HF's eager TF pipeline runs on the first ``slow_texts`` texts only."""
    from tqdm import tqdm

    workdir = Path(tempfile.mkdtemp(prefix="tf_pipeline_bench_"))
    try:
        torch_entry = torch_pipeline_entry(  # first: fails fast on a broken torch venv
            torch_python, pipe, texts, workdir, batch_sizes=batch_sizes, latency_texts=latency_texts,
        ) if torch_python else None
        measured = _variants(pipe, workdir, variants)
        tokens = [len(ids) for ids in pipe.tokenizer(list(texts), truncation=True, max_length=pipe.max_length)["input_ids"]]
        results = {"machine": _machine(), "texts": len(texts), "mean_tokens": float(np.mean(tokens)),
                   "model": pipe.source, "matmul_peak_gflops": matmul_peak(), "variants": {}}
        for name, variant in tqdm(measured.items(), desc="variants", file=sys.stderr, disable=None):
            subset = list(texts[:slow_texts]) if name == "hf_tf_pipeline" else list(texts)
            results["variants"][name] = _measure_variant(variant, subset, batch_sizes, latency_texts)
            logger.info("%s: %s texts/s", name, {k: round(v, 1) for k, v in results["variants"][name]["throughput"].items()})
        if torch_entry:
            results["variants"][TORCH_VARIANT] = torch_entry
        for entry in results["variants"].values():
            useful = max(entry["throughput"].values()) * results["mean_tokens"] * flops_per_token(
                pipe.config, results["mean_tokens"]) / 1e9
            entry["useful_gflops_best"] = useful
            entry["share_of_matmul_peak"] = useful / results["matmul_peak_gflops"]
        _add_ratios(results)
        results["tokenization_share"] = _tokenization_share(pipe, texts)
        if (workdir / "saved_model").is_dir():
            results["saved_model_cold_start_s"] = cold_start_seconds(latest_version_dir(workdir / "saved_model"))
        results["targets"] = targets(results)
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure_variant(variant: Variant, texts: list[str], batch_sizes: Sequence[int], latency_texts: int) -> dict:
    entry: dict = {"texts": len(texts), "throughput": {}, "warmup_s": {}}
    for batch_size in batch_sizes:
        rate, warm_seconds = measure(variant, texts, batch_size)
        entry["throughput"][str(batch_size)] = rate
        entry["warmup_s"][str(batch_size)] = warm_seconds
    entry.update(_latency_summary(latencies_ms(variant.run, texts[:latency_texts])))
    entry["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if variant.compiled_shapes:
        entry["xla_compiled_shapes"] = variant.compiled_shapes()
    return entry


def _add_ratios(results: dict) -> None:
    """``ratio_vs_<baseline>`` per batch size, against HF's TF and PyTorch pipelines when measured."""
    for baseline_name in ("hf_tf_pipeline", TORCH_VARIANT):
        baseline = results["variants"].get(baseline_name)
        if not baseline:
            continue
        for entry in results["variants"].values():
            entry[f"ratio_vs_{baseline_name}"] = {
                size: rate / baseline["throughput"][size]
                for size, rate in entry["throughput"].items() if size in baseline["throughput"]}


def targets(results: dict) -> dict:
    """The issue's three targets for the default ``tf_pipeline`` variant and for the best of ours, met or not."""
    ours = {name: entry for name, entry in results["variants"].items()
            if name not in ("hf_tf_pipeline", TORCH_VARIANT)}
    measures = {
        "vs_hf_tf": lambda entry: max(entry.get("ratio_vs_hf_tf_pipeline", {}).values(), default=None),
        "vs_hf_pt_at_batch_32": lambda entry: entry.get(f"ratio_vs_{TORCH_VARIANT}", {}).get("32"),
        "share_of_matmul_peak": lambda entry: entry["share_of_matmul_peak"],
    }
    report = {}
    for target, value_of in measures.items():
        values = {name: value_of(entry) for name, entry in ours.items() if value_of(entry) is not None}
        if "tf_pipeline" not in values:
            continue
        best = max(values, key=values.get)
        report[target] = {"goal": TARGETS[target], "tf_pipeline": values["tf_pipeline"],
                          "met_by_tf_pipeline": values["tf_pipeline"] >= TARGETS[target],
                          "best_variant": best, "best": values[best]}
    return report


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
