"""Measure one of our variants (or HF's TF pipeline) in its own process, so its peak memory is its own.

The benchmark (:mod:`tf_pipeline.benchmark.run`) writes the weights, exports the SavedModel and
converts the .tflite files once into its workdir, then starts this module once per variant and
text set with a JSON job; the child loads only what its variant needs and writes a JSON answer
(:mod:`~tf_pipeline.benchmark.peer_timing`: throughput per batch size, latencies, peak memory,
every text's scores).

Example (what the benchmark runs):
    python -m tf_pipeline.benchmark.ours job.json answer.json
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tf_pipeline.benchmark.peer_timing import measure_runner, read_job, tokenizer_arguments, write_answer  # noqa: E402

Runner = Callable[[list, int], list]


def ranked_to_dicts(ranked: list) -> list[dict[str, float]]:
    """``[[{"label", "score"}, ...], ...]`` (top_k=None answers) → one label → score dict per text."""
    return [{item["label"]: float(item["score"]) for item in answer} for answer in ranked]


def rows_to_dicts(probabilities, labels: list[str]) -> list[dict[str, float]]:
    return [dict(zip(labels, row)) for row in np.asarray(probabilities).tolist()]


def pipeline_runner(job: dict, *, jit_compile: bool = False):
    from tf_pipeline.runners.graph import TextClassificationPipeline

    return TextClassificationPipeline.from_pretrained(job["weights"], max_length=job["max_length"],
                                                      jit_compile=jit_compile)


def hf_tf_runner(job: dict) -> Runner:
    """HF's ``TextClassificationPipeline`` with the TF model, eager."""
    from transformers import TextClassificationPipeline as HFPipeline

    pipe = pipeline_runner(job)
    hf = HFPipeline(model=pipe.model, tokenizer=pipe.tokenizer, framework="tf")
    return lambda texts, size: ranked_to_dicts(hf(list(texts), batch_size=size, truncation=True, top_k=None))


def graph_runner(job: dict) -> Runner:
    """The tf_pipeline graph; ``tf_pipeline_input_order`` keeps each batch in input order, as HF does."""
    pipe = pipeline_runner(job)
    if job["variant"] == "tf_pipeline_input_order":
        return lambda texts, size: ranked_to_dicts(list(pipe.stream(texts, batch_size=size, sort_window=1, top_k=None)))
    return lambda texts, size: ranked_to_dicts(pipe(list(texts), batch_size=size, top_k=None))


def saved_model_runner(job: dict) -> Runner:
    """The exported SavedModel's signatures, batches in input order as clients send them."""
    import tensorflow_text  # noqa: F401  (the SavedModel's tokenizer ops)

    loaded = tf.saved_model.load(job["saved_model"])
    labels = job["labels"]
    if job["variant"] == "saved_model_strings":
        def run_texts(batch):
            first, second = tokenizer_arguments(batch)
            if second is None:
                return rows_to_dicts(loaded.signatures["serving_default"](text=tf.constant(first))["probabilities"], labels)
            answers = loaded.signatures["serving_pairs"](text=tf.constant(first), text_pair=tf.constant(second))
            return rows_to_dicts(answers["probabilities"], labels)

        return batched(run_texts)
    from tf_pipeline.checkpoints.loading import load_tokenizer
    from tf_pipeline.tasks.inputs import validate_inputs
    from tf_pipeline.tokenizers.hf import encode

    signature = loaded.signatures["predict_ids"]
    names = list(signature.structured_input_signature[1])
    tokenizer = load_tokenizer(Path(job["weights"]))

    def run_batch(batch):
        ids = encode(tokenizer, validate_inputs(batch, pairs=True), job["max_length"], "tf")
        outputs = signature(**{name: tf.cast(ids[name], tf.int32) for name in names})
        return rows_to_dicts(outputs["probabilities"], labels)

    return batched(run_batch)


def tflite_runner(job: dict) -> Runner:
    from tf_pipeline.export.tflite.runtime import TFLitePipeline

    lite = TFLitePipeline(job["tflite"][job["variant"]], num_threads=job["threads"])
    return lambda texts, size: ranked_to_dicts(lite(list(texts), batch_size=size, top_k=None))


def batched(run_batch: Callable[[list[str]], list]) -> Runner:
    """A runner over all texts from one that classifies a single batch, in input order."""
    def run(texts, batch_size):
        answers = []
        for start in range(0, len(texts), batch_size):
            answers.extend(run_batch(list(texts[start:start + batch_size])))
        return answers

    return run


MAKERS = {
    "hf_tf_pipeline": hf_tf_runner,
    "tf_pipeline": graph_runner,
    "tf_pipeline_input_order": graph_runner,
    "saved_model_strings": saved_model_runner,
    "saved_model_ids": saved_model_runner,
    "tflite_float32": tflite_runner,
    "tflite_dynamic_int8": tflite_runner,
}


def measure_variant(job: dict) -> dict:
    """Build the job's variant and time it."""
    if job["variant"] == "tf_pipeline_xla":
        xla = pipeline_runner(job, jit_compile=True)
        run = lambda texts, size: ranked_to_dicts(xla(list(texts), batch_size=size, top_k=None))  # noqa: E731
        answer = measure_runner(run, job["texts"], job["batch_sizes"], job["latency_texts"])
        return {**answer, "xla_compiled_shapes": len(xla.shapes_seen)}
    run = MAKERS[job["variant"]](job)
    return measure_runner(run, job["texts"], job["batch_sizes"], job["latency_texts"])


def main(job_path: str, answer_path: str) -> None:
    job = read_job(job_path)
    write_answer(answer_path, {**measure_variant(job), "tensorflow": tf.__version__})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
