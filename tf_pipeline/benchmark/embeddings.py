"""The embeddings benchmark: our runtimes of the sentence-embeddings task against sentence-transformers
on PyTorch and on ONNX Runtime, same weights, each runner in its own process.

Ours: the TF graph, the SavedModel as TF Serving runs it (strings in), TFLite float32 and
dynamic-int8. Peers (with ``torch_python``): ``SentenceTransformer(model).encode`` with the torch
backend and the ONNX backend. Writes texts/s per batch size, ratios of ours to each peer, and each
runner's cosine similarity to sentence-transformers on PyTorch (mean and lowest) to a JSON file.

Example:
    >>> run_embeddings_benchmark(default_encoder_dir(), short_texts(), torch_python=".venv-torch/bin/python")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from tf_pipeline import errors
from tf_pipeline.benchmark.processes import PEER_SCRIPTS, SETUP_HINT, check_imports, machine, run_job

logger = logging.getLogger(__name__)

OURS = ("tf_pipeline", "saved_model_strings", "tflite_float32", "tflite_dynamic_int8")
PEERS = {"st_torch": "torch", "st_onnx": "onnx"}  # name → sentence-transformers backend
PEER_MODULES = ("torch", "sentence_transformers", "onnxruntime", "optimum.onnxruntime")
BATCH_SIZES = (1, 32)
THREADS = 2
REFERENCE = "st_torch"


def run_embeddings_benchmark(model: str | Path, texts: Sequence[str], *, batch_sizes: Sequence[int] = BATCH_SIZES,
                             torch_python: str | None = None, latency_texts: int = 32) -> dict:
    """Time every runner on ``texts``; return the results (see the module's docstring).

    Args:
        model: a sentence-transformers folder (e.g. the shipped all-MiniLM-L6-v2).
        texts: the texts each runner embeds.
        batch_sizes: texts per call.
        torch_python: the torch venv's interpreter; without it the peers are left out.
        latency_texts: texts timed one at a time.

    Returns:
        ``{"runners": {name: {"throughput", "latencies_ms", "peak_rss_mb", ...}}, "ratios", "cosine"}``.
    """
    from tf_pipeline import convert_to_tflite, export_saved_model, pipeline

    job = {"model": str(model), "texts": list(texts), "batch_sizes": list(batch_sizes), "threads": THREADS,
           "latency_texts": latency_texts}
    runners, vectors = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        pipe = pipeline("sentence-embeddings", model=model)
        files = {"saved_model_strings": str(export_saved_model(pipe, workdir / "export")),
                 "tflite_float32": str(convert_to_tflite(pipe, workdir / "f32.tflite")),
                 "tflite_dynamic_int8": str(convert_to_tflite(pipe, workdir / "int8.tflite", quantize="dynamic-int8"))}
        for name in OURS:
            logger.info("embeddings benchmark: %s", name)
            answer = run_job([sys.executable, "-m", __name__], {**job, "variant": name, "files": files}, workdir, name)
            vectors[name] = _vectors(answer.pop("scores"))
            runners[name] = answer
        if torch_python:
            checked = os.path.abspath(torch_python)
            if not Path(checked).is_file():
                raise errors.InvalidInputError(f"--torch-python {torch_python} is not a file; {SETUP_HINT}.")
            check_imports(checked, PEER_MODULES)
            for name, backend in PEERS.items():
                logger.info("embeddings benchmark: %s", name)
                answer = run_job([checked, str(PEER_SCRIPTS / "st_reference.py")], {**job, "backend": backend},
                                 workdir, name, torch_venv=True)
                vectors[name] = _vectors(answer.pop("scores"))
                runners[name] = answer
    return {"machine": machine(), "model": str(model), "texts": len(texts), "batch_sizes": list(batch_sizes),
            "threads": THREADS, "runners": runners, "ratios": _ratios(runners), "cosine": _cosines(vectors)}


def write_embeddings_results(results: dict, output: str | Path) -> Path:
    """``results`` as JSON at ``output`` (folders made)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    return output


def _vectors(scores: list[dict]) -> np.ndarray:
    return np.array([[row[str(index)] for index in range(len(row))] for row in scores], np.float64)


def _ratios(runners: dict) -> dict:
    """texts/s of each of ours divided by each peer's, per batch size."""
    return {f"{ours}_vs_{peer}": {size: round(runners[ours]["throughput"][size] / runners[peer]["throughput"][size], 2)
                                  for size in runners[peer]["throughput"]}
            for ours in OURS if ours in runners for peer in PEERS if peer in runners}


def _cosines(vectors: dict) -> dict:
    """Each runner's cosine similarity to the reference (sentence-transformers on PyTorch, else our graph)."""
    reference = vectors.get(REFERENCE, vectors["tf_pipeline"])
    result = {}
    for name, rows in vectors.items():
        cosine = np.sum(rows * reference, -1) / np.maximum(
            np.linalg.norm(rows, axis=-1) * np.linalg.norm(reference, axis=-1), 1e-12)
        result[name] = {"mean": float(cosine.mean()), "min": float(cosine.min())}
    return {"reference": REFERENCE if REFERENCE in vectors else "tf_pipeline", **result}


def _child(job: dict) -> dict:
    """One of our runners, timed in this (child) process."""
    from tf_pipeline import pipeline
    from tf_pipeline.benchmark.peer_timing import measure_runner
    from tf_pipeline.export.tflite.runtime import TFLitePipeline

    variant = job["variant"]
    if variant == "tf_pipeline":
        pipe = pipeline("sentence-embeddings", model=job["model"])
    elif variant.startswith("tflite"):
        pipe = TFLitePipeline(job["files"][variant], num_threads=job["threads"])
    else:
        pipe = pipeline(model=job["files"][variant])

    def run(texts, size):
        return [{str(index): float(value) for index, value in enumerate(row)} for row in pipe(list(texts), batch_size=size)]

    return measure_runner(run, job["texts"], job["batch_sizes"], job["latency_texts"])


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tf_pipeline.benchmark.peer_timing import read_job, write_answer

    write_answer(sys.argv[2], _child(read_job(sys.argv[1])))
