"""Texts/s of `tf-pipeline score` (Apache Beam, DirectRunner) against `tf-pipeline predict` on one file.

Both run as users run them (fresh processes, wall time including start-up) on the same file of the
shipped sentiment texts (train + validation + evaluation, about 11,000 mixed-length sentences) and
the same SavedModel export of the default model; `predict` also runs on the checkpoint itself.
The result is merged into benchmarks/results.json under "beam_score" (the rest of the file is kept).

    .venv/bin/python scripts/bench_score.py [--workers 2] [--output benchmarks/results.json]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = str(Path(sys.executable).with_name("tf-pipeline"))


def timed(*args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([CLI, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"tf-pipeline {args[0]} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--output", default="benchmarks/results.json")
    args = parser.parse_args()
    from tf_pipeline import export_saved_model, load_pipeline, sentiment_set

    pipe = load_pipeline()
    texts = [example.text for split in ("train", "validation", "evaluation") for example in sentiment_set(split)]
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        export = export_saved_model(pipe, work / "export")
        source = work / "texts.txt"
        source.write_text("\n".join(texts) + "\n", encoding="utf-8")
        seconds = {
            "predict_checkpoint": timed("predict", "--input", str(source), "--output", str(work / "a.jsonl")),
            "predict_export": timed("predict", "--model", str(export), "--input", str(source),
                                    "--output", str(work / "b.jsonl")),
            "score_direct_runner": timed("score", "--model", str(export), "--input", str(source),
                                         "--output", str(work / "scored" / "c"), "--workers", str(args.workers)),
            "score_direct_runner_batch_128": timed("score", "--model", str(export), "--input", str(source),
                                                   "--output", str(work / "scored" / "d"), "--workers",
                                                   str(args.workers), "--max-batch-size", "128"),
            "score_direct_runner_1_worker": timed("score", "--model", str(export), "--input", str(source),
                                                  "--output", str(work / "scored" / "e"), "--workers", "1"),
        }
    entry = {
        "texts": len(texts), "workers": args.workers, "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
        "wall_seconds": {name: round(value, 1) for name, value in seconds.items()},
        "texts_per_second": {name: round(len(texts) / value, 1) for name, value in seconds.items()},
    }
    entry["score_vs_predict_export"] = round(seconds["predict_export"] / seconds["score_direct_runner"], 2)
    output = Path(args.output)
    results = json.loads(output.read_text()) if output.is_file() else {}
    output.write_text(json.dumps({**results, "beam_score": entry}, indent=2) + "\n")
    print(json.dumps(entry))


if __name__ == "__main__":
    main()
