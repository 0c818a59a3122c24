"""HF's PyTorch text-classification pipeline, timed like the other benchmark variants.

Runs in *another* interpreter (a venv with torch and transformers; torch must never share a
process or venv with TensorFlow here), started by :func:`tf_pipeline.benchmark.run.run_benchmark` with
``--torch-python``. It imports nothing from tf_pipeline: the benchmark runs this file as a script
with the torch venv's interpreter. It reads a JSON job (model folder, texts, batch sizes) and writes a JSON answer:
throughput per batch size, single-text latencies, peak memory, and the scores of the first texts
so the caller can check both frameworks ran the same weights.

Example (what the benchmark runs):
    .venv-torch/bin/python tf_pipeline/benchmark/torch_reference.py job.json answer.json
"""

import json
import resource
import sys
import time


def main(job_path: str, answer_path: str) -> None:
    import torch
    from transformers import pipeline

    job = json.load(open(job_path, encoding="utf-8"))
    texts = job["texts"]
    pipe = pipeline("text-classification", model=job["model"], framework="pt", device=-1)
    run = lambda batch, size: pipe(batch, batch_size=size, truncation=True, top_k=None)  # noqa: E731
    throughput = {}
    for size in job["batch_sizes"]:
        run(texts[:size], size)  # warm-up
        began = time.perf_counter()
        run(texts, size)
        throughput[str(size)] = len(texts) / (time.perf_counter() - began)
    latencies = []
    for text in texts[:job["latency_texts"]]:
        began = time.perf_counter()
        run([text], 1)
        latencies.append(1000 * (time.perf_counter() - began))
    check = run(texts[:job["check_texts"]], 8)
    answer = {
        "throughput": throughput,
        "latencies_ms": latencies,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "scores": [{item["label"]: item["score"] for item in ranked} for ranked in check],
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    with open(answer_path, "w", encoding="utf-8") as file:
        json.dump(answer, file)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
