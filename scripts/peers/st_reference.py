"""sentence-transformers' ``encode``, on PyTorch or ONNX Runtime, timed like the other benchmark runners.

Runs in the torch venv's interpreter (torch never shares a process with TensorFlow here), started
by the embeddings benchmark (:mod:`tf_pipeline.benchmark.embeddings`); imports nothing from
tf_pipeline. The job names the model folder, the texts, the batch sizes, the threads and the
backend ("torch" or "onnx": sentence-transformers exports the model to ONNX with optimum on first
use); the answer holds throughput per batch size, latencies, peak memory and every embedding.

Example (what the benchmark runs):
    PYTHONPATH=tf_pipeline/benchmark .venv-torch/bin/python scripts/peers/st_reference.py job.json answer.json
"""

import sys

from peer_timing import measure_runner, read_job, write_answer


def main(job_path: str, answer_path: str) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    job = read_job(job_path)
    torch.set_num_threads(job["threads"])
    options = {"model_kwargs": {"provider": "CPUExecutionProvider"}} if job["backend"] == "onnx" else {}
    model = SentenceTransformer(job["model"], device="cpu", backend=job["backend"], **options)

    def run(texts, size):
        vectors = model.encode(list(texts), batch_size=size)
        return [{str(index): float(value) for index, value in enumerate(row)} for row in vectors]

    answer = measure_runner(run, job["texts"], job["batch_sizes"], job["latency_texts"])
    write_answer(answer_path, {**answer, "torch": torch.__version__, "backend": job["backend"]})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
