"""One timing loop for every benchmark runner, ours and the peers' (standard library only).

The peer scripts (:mod:`torch_reference`, :mod:`onnx_reference`) run under another venv's
interpreter and import this file from their own folder; tf_pipeline's children import it as
``tf_pipeline.benchmark.peer_timing``. It must import nothing but the standard library.

A runner is ``run(texts, batch_size) -> list[dict[label, score]]`` (all labels, input order). A
text is a string or, in the ``pairs`` set, HF's pair dict ``{"text", "text_pair"}``.

Example:
    >>> answer = measure_runner(lambda texts, size: [{"POSITIVE": 1.0} for _ in texts], ["a", "b"], [1, 2], 2)
    >>> sorted(answer)
    ['latencies_ms', 'peak_rss_mb', 'scores', 'throughput', 'throughput_passes', 'warmup_s']
"""

from __future__ import annotations

import json
import resource
import time
from typing import Callable, Sequence

Runner = Callable[[Sequence[str], int], list]


PASSES = 3  # timed passes per batch size at most: texts/s is the best of them
PASS_BUDGET_S = 15.0  # no further timed pass once the timed ones took this long (one always runs)


def tokenizer_arguments(texts: Sequence) -> tuple[list, list | None]:
    """``tokenizer(*tokenizer_arguments(texts))``: the first texts, and the second ones for pair dicts.

    Example:
        >>> tokenizer_arguments([{"text": "q", "text_pair": "p"}]), tokenizer_arguments(["a"])
        ((['q'], ['p']), (['a'], None))
    """
    texts = list(texts)
    if texts and isinstance(texts[0], dict):
        return [item["text"] for item in texts], [item["text_pair"] for item in texts]
    return texts, None


def throughput(run: Runner, texts: Sequence[str], batch_size: int) -> tuple[list[float], float, list]:
    """Texts/s of each timed pass over all ``texts``, the seconds of the untimed pass before them, and
    the last timed pass's answers.

    The untimed pass runs every text at this batch size first, so the timed ones measure the steady
    state: shapes a runtime prepares once (XLA compiles, oneDNN primitives, LiteRT's first call of
    a shape) are prepared in every runner alike. Up to ``PASSES`` timed passes follow, fewer when
    they pass ``PASS_BUDGET_S``; the caller takes the best, which a busy moment on the machine
    cannot lower (docs/benchmark.md, "Running it").
    """
    texts = list(texts)
    began = time.perf_counter()
    run(texts, batch_size)
    warm_seconds = time.perf_counter() - began
    rates, timed = [], 0.0
    while not rates or (len(rates) < PASSES and timed < PASS_BUDGET_S):
        began = time.perf_counter()
        answers = run(texts, batch_size)
        seconds = time.perf_counter() - began
        rates.append(len(texts) / seconds)
        timed += seconds
    return rates, warm_seconds, answers


def latencies_ms(run: Runner, texts: Sequence[str]) -> list[float]:
    """Milliseconds per single-text request."""
    times = []
    for text in texts:
        began = time.perf_counter()
        run([text], 1)
        times.append(1000 * (time.perf_counter() - began))
    return times


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB.

    Linux's ``VmHWM`` (the peak of this program's own memory), not ``ru_maxrss``: that one survives
    ``execve``, so a child started by a big parent would report the parent's size at the fork.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_runner(run: Runner, texts: Sequence[str], batch_sizes: Sequence[int], latency_texts: int) -> dict:
    """Throughput per batch size (the best timed pass; every pass in ``throughput_passes``), single-text
    latencies, peak memory, and every text's scores.

    The scores are the answers of the last timed pass at the last batch size.
    """
    answer: dict = {"throughput": {}, "throughput_passes": {}, "warmup_s": {}, "scores": []}
    for size in batch_sizes:
        rates, warm_seconds, answers = throughput(run, texts, size)
        answer["throughput"][str(size)] = max(rates)
        answer["throughput_passes"][str(size)] = rates
        answer["warmup_s"][str(size)] = warm_seconds
        answer["scores"] = [{label: float(score) for label, score in scores.items()} for scores in answers]
    answer["latencies_ms"] = latencies_ms(run, list(texts)[:latency_texts])
    answer["peak_rss_mb"] = peak_rss_mb()
    return answer


def read_job(path: str) -> dict:
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def write_answer(path: str, answer: dict) -> None:
    with open(path, "w", encoding="utf-8") as file:
        json.dump(answer, file)
