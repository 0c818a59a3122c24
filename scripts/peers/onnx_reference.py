"""ONNX Runtime peers of the benchmark: what users pick for CPU speed, on the same weights.

A script for the torch venv (``.venv-torch`` from scripts/setup_torch.sh: torch, transformers,
onnxruntime, optimum-onnx), like :mod:`torch_reference`; it imports nothing from tf_pipeline.
It reads a JSON job and writes a JSON answer. ``"runner": "prepare"`` makes the models once:

- ``optimum/``: optimum's ``ORTModelForSequenceClassification.from_pretrained(model, export=True)``,
  saved with the tokenizer;
- ``ort_fp32.onnx``: ``torch.onnx.export`` (TorchScript exporter, ``dynamo=False``, opset 17; batch and
  sequence axes dynamic), then ``onnxruntime.transformers.optimizer.optimize_model(model_type="bert",
  num_heads, hidden_size)`` from the config;
- ``ort_dynamic_int8.onnx``: ``quantize_dynamic`` of ``ort_fp32.onnx``, QInt8 weights, per-tensor,
  full range (ORT's defaults; reduce_range is for CPUs without VNNI). ``DefaultTensorType`` FLOAT
  is passed because shape inference cannot type the optimizer's fused ops (the error message's advice).

Any other runner (``optimum_ort_pipeline``, ``ort_fp32``, ``ort_dynamic_int8``) loads those files in a
fresh process, so its peak memory is its own, and is timed like every benchmark variant
(:mod:`peer_timing`). ORT sessions use ``intra_op_num_threads`` = the job's ``threads``, inter-op 1.

Example (what the benchmark runs):
    PYTHONPATH=tf_pipeline/benchmark .venv-torch/bin/python scripts/peers/onnx_reference.py job.json answer.json
"""

from __future__ import annotations

import inspect
import json
import sys
import time
from pathlib import Path

import numpy as np

from peer_timing import measure_runner, read_job, tokenizer_arguments, write_answer

OPSET = 17
SORT_WINDOW = 16  # batches sorted by length together, as tf_pipeline's stream does


def prepare(job: dict) -> dict:
    """Export, optimize and quantize once into ``job["workdir"]``; the file paths and how it went."""
    workdir = Path(job["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    files = {"optimum_ort_pipeline": str(export_optimum(job["model"], workdir / "optimum"))}
    raw = export_torch(job["model"], workdir / "ort_raw.onnx")
    files["ort_fp32"], fused = optimize(raw, job["model"], workdir / "ort_fp32.onnx")
    files["ort_dynamic_int8"] = quantize(files["ort_fp32"], workdir / "ort_dynamic_int8.onnx")
    return {"files": files, "fused_operators": fused, "prepare_s": time.perf_counter() - began, **versions()}


def export_optimum(model: str, folder: Path) -> Path:
    from optimum.onnxruntime import ORTModelForSequenceClassification
    from transformers import AutoTokenizer

    ORTModelForSequenceClassification.from_pretrained(model, export=True).save_pretrained(folder)
    AutoTokenizer.from_pretrained(model).save_pretrained(folder)
    return folder


def export_torch(model: str, path: Path) -> Path:
    """``torch.onnx.export`` with dynamic batch and sequence axes (the exporter whose graph ORT's optimizer fuses)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    network = AutoModelForSequenceClassification.from_pretrained(model).eval()
    tokenizer = AutoTokenizer.from_pretrained(model)
    sample = tokenizer(["a short text", "and a somewhat longer one to export"], padding=True, return_tensors="pt")
    names = [name for name in inspect.signature(network.forward).parameters if name in tokenizer.model_input_names]
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    with torch.no_grad():
        torch.onnx.export(network, tuple(sample[name] for name in names), str(path), input_names=names,
                          output_names=["logits"], dynamic_axes={**axes, "logits": {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
    return path


def optimize(raw: Path, model: str, path: Path) -> tuple[str, dict]:
    """ORT's transformer optimizer (BERT fusions: attention, embedding and skip layer norms, GELU)."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((Path(model) / "config.json").read_text())
    heads = config.get("num_attention_heads", config.get("n_heads"))
    hidden = config.get("hidden_size", config.get("dim"))
    optimized = optimize_model(str(raw), model_type="bert", num_heads=heads, hidden_size=hidden)
    optimized.save_model_to_file(str(path))
    fused = {name: count for name, count in optimized.get_fused_operator_statistics().items() if count}
    return str(path), fused


def quantize(fp32: str, path: Path) -> str:
    """Dynamic int8; ``DefaultTensorType`` because shape inference cannot type the fused (contrib) ops' outputs."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(fp32, str(path), weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return str(path)


def session_options(threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return options


def optimum_runner(job: dict):
    """optimum's ORT model inside HF's ``pipeline("text-classification")``."""
    from optimum.onnxruntime import ORTModelForSequenceClassification
    from transformers import AutoTokenizer, pipeline

    folder = job["files"]["optimum_ort_pipeline"]
    model = ORTModelForSequenceClassification.from_pretrained(
        folder, session_options=session_options(job["threads"]), provider="CPUExecutionProvider")
    pipe = pipeline("text-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(folder))

    def run(texts, size):
        ranked = pipe(list(texts), batch_size=size, truncation=True, top_k=None)
        return [{item["label"]: item["score"] for item in answer} for answer in ranked]

    return run


def session_runner(job: dict):
    """An ``InferenceSession`` on length-sorted batches, each padded to its own longest text; NumPy softmax."""
    import onnxruntime as ort
    from transformers import AutoTokenizer

    session = ort.InferenceSession(job["files"][job["runner"]], session_options(job["threads"]),
                                   providers=["CPUExecutionProvider"])
    tokenizer = AutoTokenizer.from_pretrained(job["model"])
    config = json.loads((Path(job["model"]) / "config.json").read_text())
    labels = [config["id2label"][str(index)] for index in range(len(config["id2label"]))]
    names = [item.name for item in session.get_inputs()]
    sigmoid = config.get("problem_type") == "multi_label_classification" or len(labels) == 1
    pads = {"input_ids": tokenizer.pad_token_id or 0, "attention_mask": 0, "token_type_ids": 0}

    def run(texts, size):
        ids = tokenizer(*tokenizer_arguments(texts), truncation=True, max_length=job["max_length"])
        probabilities = np.zeros((len(texts), len(labels)), np.float32)
        for rows in sorted_batches([len(row) for row in ids["input_ids"]], size):
            batch = {name: padded([ids[name][row] for row in rows], pads[name]) for name in names}
            logits = session.run(["logits"], batch)[0]
            probabilities[rows] = activate(logits, sigmoid)
        return [dict(zip(labels, row.tolist())) for row in probabilities]

    return run


def sorted_batches(lengths: list[int], size: int) -> list[list[int]]:
    """Row indices cut into batches of ``size``, sorted by length within windows of SORT_WINDOW batches."""
    batches = []
    window = size * SORT_WINDOW
    for start in range(0, len(lengths), window):
        rows = sorted(range(start, min(start + window, len(lengths))), key=lengths.__getitem__)
        batches.extend(rows[begin:begin + size] for begin in range(0, len(rows), size))
    return batches


def padded(rows: list[list[int]], pad: int) -> np.ndarray:
    """Right-padded to the longest row, int64."""
    batch = np.full((len(rows), max(map(len, rows))), pad, np.int64)
    for index, row in enumerate(rows):
        batch[index, :len(row)] = row
    return batch


def activate(logits: np.ndarray, sigmoid: bool) -> np.ndarray:
    if sigmoid:
        return 1 / (1 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def versions() -> dict:
    import onnxruntime
    import transformers

    return {"onnxruntime": onnxruntime.__version__, "transformers": transformers.__version__}


def main(job_path: str, answer_path: str) -> None:
    job = read_job(job_path)
    if job["runner"] == "prepare":
        write_answer(answer_path, prepare(job))
        return
    make = optimum_runner if job["runner"] == "optimum_ort_pipeline" else session_runner
    run = make(job)
    answer = measure_runner(run, job["texts"], job["batch_sizes"], job["latency_texts"])
    write_answer(answer_path, {**answer, **versions(), "threads": job["threads"]})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
