"""HF's PyTorch text-classification pipeline, timed like the other benchmark variants.

Runs in *another* interpreter (a venv with torch and transformers; torch must never share a
process or venv with TensorFlow here), started by the benchmark (:mod:`tf_pipeline.benchmark.peers`)
with ``--torch-python``. It imports nothing from tf_pipeline: the benchmark runs this file as a
script with the torch venv's interpreter, in its own process (so its peak memory is its own). It
reads a JSON job (model folder, texts, batch sizes, threads) and writes a JSON answer: throughput
per batch size, single-text latencies, peak memory and every text's scores (:mod:`peer_timing`).

Example (what the benchmark runs):
    PYTHONPATH=tf_pipeline/benchmark .venv-torch/bin/python scripts/peers/torch_reference.py job.json answer.json
"""

import sys

from peer_timing import measure_runner, read_job, write_answer


def main(job_path: str, answer_path: str) -> None:
    import torch
    from transformers import pipeline

    job = read_job(job_path)
    torch.set_num_threads(job["threads"])
    pipe = pipeline("text-classification", model=job["model"], framework="pt", device=-1)

    def run(texts, size):
        ranked = pipe(list(texts), batch_size=size, truncation=True, top_k=None)
        return [{item["label"]: item["score"] for item in answer} for answer in ranked]

    answer = measure_runner(run, job["texts"], job["batch_sizes"], job["latency_texts"])
    write_answer(answer_path, {**answer, "torch": torch.__version__, "threads": torch.get_num_threads()})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
