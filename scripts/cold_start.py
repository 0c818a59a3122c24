"""Where a cold ``tf-pipeline predict "text"`` spends its seconds, step by step, in fresh processes.

Each run starts a new interpreter that imports and loads as the command line does
(``TF_USE_LEGACY_KERAS=1``, quiet TensorFlow) and prints the seconds of each step: Python's start,
``import tensorflow``, ``import transformers``, ``import tf_pipeline``'s API, ``load_pipeline(model)``
and the first answer. Then the wall time of the real command, ``tf-pipeline predict --model MODEL
"text"``. Run on an idle machine (docs/python.md, "Cold start").

Usage:
    .venv/bin/python scripts/cold_start.py --model small --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

STEPS = r"""
import json, os, sys, time
began = float(sys.argv[1])
times = {"python start": time.time() - began}
mark = time.perf_counter()

def step(name):
    global mark
    now = time.perf_counter()
    times[name] = now - mark
    mark = now

import tensorflow
step("import tensorflow")
import transformers
step("import transformers")
from tf_pipeline.api import load_pipeline
step("import tf_pipeline.api")
pipe = load_pipeline(sys.argv[2] if sys.argv[2] != "default" else None)
step("load_pipeline")
pipe("A first text to answer.")
step("first answer")
print(json.dumps(times))
"""


def environment() -> dict:
    return {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}


def steps(model: str) -> dict[str, float]:
    """One fresh process's seconds per step."""
    done = subprocess.run([sys.executable, "-c", STEPS, repr(time.time()), model], capture_output=True, text=True,
                          env=environment(), check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def command_seconds(model: str) -> float:
    """Wall seconds of ``tf-pipeline predict --model MODEL "text"``."""
    program = str(Path(sys.executable).with_name("tf-pipeline"))
    arguments = [program, "predict", "A first text to answer."] + ([] if model == "default" else ["--model", model])
    began = time.perf_counter()
    subprocess.run(arguments, capture_output=True, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="small", help="'default', 'small' or a model folder (default: small)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    command_seconds(args.model)  # once untimed: the files into the page cache
    runs = [steps(args.model) for _ in range(args.runs)]
    summary = {name: round(statistics.median(run[name] for run in runs), 2) for name in runs[0]}
    walls = [round(command_seconds(args.model), 2) for _ in range(args.runs)]
    print(json.dumps({"model": args.model, "median_steps_s": summary, "predict_wall_s": walls}))


if __name__ == "__main__":
    main()
