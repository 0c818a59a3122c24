"""Benchmark harness: the ways users run a text classifier, side by side on the same texts and weights.

Ours: the tf_pipeline graph (length-sorted batches, and in input order), the graph with XLA, the
exported SavedModel (strings-in and ids-in), TFLite float32 and dynamic-int8. Peers: HF's TF
pipeline (eager) and, from the torch venv (``torch_python``), HF's PyTorch pipeline, optimum's ONNX
Runtime pipeline and ONNX Runtime sessions on an optimized fp32 and a dynamic-int8 model. Every
runner is measured in its own process (:mod:`~tf_pipeline.benchmark.processes`) on each text set:
throughput per batch size, single-text p50/p95 latency, peak memory, the largest score difference
from tf_pipeline, useful-token FLOP/s as a share of the machine's matmul peak; plus each of ours
against every peer, int8-vs-fp32 label agreement, the SavedModel's cold start, the tokenizing
share, and the issues' targets met or missed. Results go to a JSON file and a PNG chart.

Example:
    >>> results = run_benchmark(load_pipeline(), text_sets(["mixed", "short"]), torch_python=".venv-torch/bin/python")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import tensorflow as tf

from tf_pipeline import errors
from tf_pipeline.benchmark.charts import chart
from tf_pipeline.benchmark.peer_timing import tokenizer_arguments
from tf_pipeline.benchmark.processes import check_torch_python, machine, ours_command, peer_script, run_job
from tf_pipeline.benchmark.variants import DEFAULT_TEXT_SETS, ORT_PEERS, PEERS, TEXT_SETS, VARIANTS, VENV_PEERS
from tf_pipeline.runners.graph import TextClassificationPipeline

logger = logging.getLogger(__name__)

BATCH_SIZES = (1, 8, 32, 128)
THREADS = 2  # intra-op threads of every runner that takes a number (TF uses the machine's cores)
TARGETS = {"vs_hf_tf": 10.0, "vs_hf_pt_at_batch_32": 1.5, "share_of_matmul_peak": 0.60}  # docs/benchmark.md, "Targets"
GOALS = (  # (ours, peer, batch size, minimum ratio of texts/s); docs/benchmark.md, "Goals"
    ("tf_pipeline", "ort_fp32", "32", 1.1), ("tf_pipeline", "ort_fp32", "1", 1.0),
    ("saved_model_strings", "ort_fp32", "32", 1.1), ("saved_model_strings", "ort_fp32", "1", 1.0),
    ("tflite_float32", "ort_fp32", "32", 1.2), ("tflite_dynamic_int8", "ort_dynamic_int8", "32", 1.5),
)
AGREEMENT_GOAL = 0.985  # tflite_dynamic_int8's labels vs tflite_float32's
INT8_PAIRS = {"tflite_dynamic_int8_vs_tflite_float32": ("tflite_dynamic_int8", "tflite_float32"),
              "ort_dynamic_int8_vs_ort_fp32": ("ort_dynamic_int8", "ort_fp32")}


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


def short_texts() -> list[str]:
    """The shipped held-out and evaluation sentences (792 short texts), never used for training."""
    from tf_pipeline.training.data import sentiment_set

    return [example.text for split in ("heldout", "evaluation") for example in sentiment_set(split)]


def query_passage_pairs(count: int = 256, seed: int = 0) -> list[dict[str, str]]:
    """Reranker-shaped text pairs, ``{"text": query, "text_pair": passage}``: a query of 3–9 words (the start
    of a shipped sentence) and a passage of 3–8 shipped sentences (about 60–150 tokens)."""
    from tf_pipeline.training.data import sentiment_set

    sentences = [example.text for split in ("train", "heldout") for example in sentiment_set(split)]
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        query = " ".join(rng.choice(sentences).split()[:rng.randint(3, 9)])
        passage = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 8)))
        pairs.append({"text": query, "text_pair": passage})
    return pairs


def text_sets(names: Sequence[str] = DEFAULT_TEXT_SETS, count: int | None = None) -> dict[str, list]:
    """The named text sets: ``mixed`` (``count`` or 512 mixed-length texts), ``short`` (the first ``count`` or
    all), ``pairs`` (``count`` or 256 query–passage pairs, :func:`query_passage_pairs`).

    Example:
        >>> {name: len(texts) for name, texts in text_sets(["mixed", "short", "pairs"]).items()}
        {'mixed': 512, 'short': 792, 'pairs': 256}
    """
    unknown = sorted(set(names) - set(TEXT_SETS))
    if unknown or not names:
        raise errors.InvalidInputError(f"unknown text sets {unknown or names}; choose from {', '.join(TEXT_SETS)}.")
    makers = {"mixed": lambda: benchmark_texts(count or 512), "short": lambda: short_texts()[:count],
              "pairs": lambda: query_passage_pairs(count or 256)}
    return {name: makers[name]() for name in names}


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


def prepare(pipe: TextClassificationPipeline, workdir: Path, variants: Sequence[str], torch_python: str | None) -> dict:
    """Everything the runners load, made once: weights (PyTorch format), SavedModel, .tflite and ONNX files."""
    from tf_pipeline.checkpoints.pytorch_format import save_for_pytorch

    shared = {"weights": str(save_for_pytorch(pipe.checkpoint, workdir / "weights")), "max_length": pipe.max_length,
              "labels": list(pipe.task.labels), "threads": THREADS}
    if {"saved_model_strings", "saved_model_ids"} & set(variants):
        from tf_pipeline.export.saved_model.export import export_saved_model

        shared["saved_model"] = str(export_saved_model(pipe, workdir / "saved_model"))
    shared["tflite"] = {}
    for name, quantize in (("tflite_float32", "none"), ("tflite_dynamic_int8", "dynamic-int8")):
        if name in variants:
            from tf_pipeline.export.tflite.convert import convert_to_tflite

            shared["tflite"][name] = str(convert_to_tflite(pipe, workdir / f"{name}.tflite", quantize=quantize))
    if set(ORT_PEERS) & set(variants):
        made = run_job([torch_python, peer_script("prepare")], {"runner": "prepare", "model": shared["weights"],
                       "workdir": str(workdir / "onnx")}, workdir, "onnx-prepare", torch_venv=True)
        shared["files"] = made.pop("files")
        shared["onnx"] = made
    return shared


def run_benchmark(
    pipe: TextClassificationPipeline,
    sets: Mapping[str, Sequence[str]],
    *,
    batch_sizes: Sequence[int] = BATCH_SIZES,
    variants: Sequence[str] | None = None,
    slow_texts: int = 128,
    latency_texts: int = 100,
    check_texts: int = 64,
    torch_python: str | None = None,
) -> dict:
    """Measure every variant on every text set, each in its own process.

    ``variants`` defaults to all (the torch-venv peers only with ``torch_python``); HF's eager TF
    pipeline runs on the first ``slow_texts`` texts of each set only.
    """
    variants, torch_python = choose_variants(variants, torch_python)
    workdir = Path(tempfile.mkdtemp(prefix="tf_pipeline_bench_"))
    try:
        shared = prepare(pipe, workdir, variants, torch_python)
        results = {"machine": {**machine(), "tensorflow": tf.__version__}, "model": pipe.source, "threads": THREADS,
                   "batch_sizes": list(batch_sizes), "matmul_peak_gflops": matmul_peak(), "text_sets": {}}
        if "onnx" in shared:
            results["onnx_export"] = shared["onnx"]
        setup = Setup(pipe, variants, shared, workdir, torch_python, list(batch_sizes), slow_texts, latency_texts,
                      check_texts, results["matmul_peak_gflops"])
        for name, texts in sets.items():
            results["text_sets"][name] = measure_text_set(setup, name, list(texts))
        if "saved_model" in shared:
            results["saved_model_cold_start_s"] = cold_start_seconds(Path(shared["saved_model"]))
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def choose_variants(variants: Sequence[str] | None, torch_python: str | None) -> tuple[list[str], str | None]:
    """The variants to run in table order, and the checked torch interpreter (absolute) if a peer needs it.

    ``None`` means all, the torch-venv peers only with ``torch_python``. Fails fast on unknown names
    and on an interpreter that lacks what the peers import.

    Example:
        >>> choose_variants(["ort_fp32", "tf_pipeline"], ".venv-torch/bin/python")  # doctest: +SKIP
        (['tf_pipeline', 'ort_fp32'], '/work/main/.venv-torch/bin/python')
    """
    if variants is None:
        variants = [name for name in VARIANTS if torch_python or name not in VENV_PEERS]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise errors.InvalidInputError(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}.")
    peers = tuple(name for name in VARIANTS if name in variants and name in VENV_PEERS)
    if peers and not torch_python:
        raise errors.InvalidInputError(f"{', '.join(peers)} run in the torch venv: pass --torch-python "
                                       ".venv-torch/bin/python (scripts/setup_torch.sh makes it).")
    checked = check_torch_python(torch_python, peers) if peers else None
    return [name for name in VARIANTS if name in variants], checked


@dataclass
class Setup:
    """What every text set's measurement shares: the pipeline, the runners, the prepared files and settings."""

    pipe: TextClassificationPipeline
    variants: list[str]
    shared: dict  # prepare()'s answer, part of every job
    workdir: Path
    torch_python: str | None
    batch_sizes: list[int]
    slow_texts: int
    latency_texts: int
    check_texts: int
    peak_gflops: float


def measure_text_set(setup: Setup, set_name: str, texts: list[str]) -> dict:
    """One text set: every variant in its own process, then ratios, agreement, targets and goals."""
    from tqdm import tqdm

    pipe = setup.pipe
    tokens = [len(ids) for ids in pipe.tokenizer(*tokenizer_arguments(texts), truncation=True,
                                                 max_length=pipe.max_length)["input_ids"]]
    mean_tokens = float(np.mean(tokens))
    entries, labels = {}, {}
    for name in tqdm(setup.variants, desc=f"{set_name} texts", file=sys.stderr, disable=None):
        subset = texts[:setup.slow_texts] if name == "hf_tf_pipeline" else texts
        answer = _run_variant(setup, name, subset, f"{name}-{set_name}")
        scores = answer.pop("scores")
        labels[name] = [max(row, key=row.get) for row in scores]
        entries[name] = _entry(answer, len(subset), pipe.config, mean_tokens, setup.peak_gflops)
        entries[name]["_scores"] = scores[:setup.check_texts]
        logger.info("%s / %s: %s texts/s", set_name, name,
                    {size: round(rate, 1) for size, rate in entries[name]["throughput"].items()})
    _add_score_differences(pipe, texts[:setup.check_texts], entries)
    _add_ratios(entries)
    agreement = {key: _agreement(labels[low], labels[high])
                 for key, (low, high) in INT8_PAIRS.items() if low in labels and high in labels}
    result = {"texts": len(texts), "mean_tokens": mean_tokens, "tokenization_share": _tokenization_share(pipe, texts),
              "variants": entries, "label_agreement": agreement}
    result["targets"] = targets(result)
    result["goals"] = goals(result)
    return result


def _run_variant(setup: Setup, name: str, texts: list[str], tag: str) -> dict:
    job = {**setup.shared, "texts": texts, "batch_sizes": setup.batch_sizes, "latency_texts": setup.latency_texts}
    if name in VENV_PEERS:
        job = {**job, "runner": name, "model": setup.shared["weights"]}
        return run_job([setup.torch_python, peer_script(name)], job, setup.workdir, tag, torch_venv=True)
    return run_job(ours_command(), {**job, "variant": name}, setup.workdir, tag)


def _entry(answer: dict, texts: int, config, mean_tokens: float, peak_gflops: float) -> dict:
    times = answer.pop("latencies_ms")
    entry = {"texts": texts, "throughput": answer.pop("throughput"),
             "latency_ms_p50": float(np.percentile(times, 50)), "latency_ms_p95": float(np.percentile(times, 95)),
             "peak_rss_mb": answer.pop("peak_rss_mb"), **answer}
    useful = max(entry["throughput"].values()) * mean_tokens * flops_per_token(config, mean_tokens) / 1e9
    entry["useful_gflops_best"] = useful
    entry["share_of_matmul_peak"] = useful / peak_gflops
    return entry


def _add_score_differences(pipe, texts: Sequence[str], entries: dict) -> None:
    """``max_score_difference_vs_tf_pipeline``: the largest |score difference| from this pipeline, per label."""
    reference = pipe(list(texts), top_k=None)
    for entry in entries.values():
        differences = [abs(scores[item["label"]] - item["score"])
                       for scores, ranked in zip(entry.pop("_scores"), reference) for item in ranked]
        entry["max_score_difference_vs_tf_pipeline"] = max(differences, default=None)


def _add_ratios(entries: dict) -> None:
    """``ratio_vs``: each of ours against every peer measured, texts/s per batch size."""
    for name, entry in entries.items():
        if name in PEERS:
            continue
        entry["ratio_vs"] = {}
        for peer in (peer for peer in PEERS if peer in entries):
            theirs = entries[peer]["throughput"]
            entry["ratio_vs"][peer] = {size: rate / theirs[size] for size, rate in entry["throughput"].items()
                                       if size in theirs}


def _agreement(labels: Sequence[str], reference: Sequence[str]) -> float:
    return float(np.mean([a == b for a, b in zip(labels, reference)]))


def targets(result: dict) -> dict:
    """Issue 6's three targets for the default ``tf_pipeline`` variant and for the best of ours, met or not."""
    ours = {name: entry for name, entry in result["variants"].items() if name not in PEERS}
    measures = {
        "vs_hf_tf": lambda entry: max(entry.get("ratio_vs", {}).get("hf_tf_pipeline", {}).values(), default=None),
        "vs_hf_pt_at_batch_32": lambda entry: entry.get("ratio_vs", {}).get("hf_pt_pipeline", {}).get("32"),
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


def goals(result: dict) -> dict:
    """Issue 14's goals against ONNX Runtime, met or missed (those whose runners and batch size were measured)."""
    report = {}
    for ours, peer, size, goal in GOALS:
        ratio = result["variants"].get(ours, {}).get("ratio_vs", {}).get(peer, {}).get(size)
        if ratio is not None:
            report[f"{ours}_vs_{peer}_at_batch_{size}"] = {"goal": goal, "ratio": ratio, "met": ratio >= goal}
    agreement = result["label_agreement"]
    if "tflite_dynamic_int8_vs_tflite_float32" in agreement:
        value = agreement["tflite_dynamic_int8_vs_tflite_float32"]
        report["tflite_dynamic_int8_label_agreement"] = {
            "goal": AGREEMENT_GOAL, "value": value, "met": value >= AGREEMENT_GOAL,
            "ort_dynamic_int8_vs_ort_fp32": agreement.get("ort_dynamic_int8_vs_ort_fp32")}
    return report


def cold_start_seconds(export_dir: Path) -> float:
    """New Python process → SavedModel loaded → first answer, wall time."""
    import subprocess

    code = (
        "import sys, tensorflow as tf, tensorflow_text\n"
        "m = tf.saved_model.load(sys.argv[1])\n"
        "m.signatures['serving_default'](text=tf.constant(['I love it']))['label'].numpy()\n"
    )
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(export_dir)], check=True, capture_output=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.perf_counter() - began


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


def write_results(results: dict, output: str | os.PathLike) -> Path:
    """``results.json`` and a throughput chart (``.png`` beside it)."""
    import json

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    chart(results, output.with_suffix(".png"))
    return output
