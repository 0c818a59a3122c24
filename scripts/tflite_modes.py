"""Every TFLite mode of a model against its TF pipeline (docs/tflite.md, "Quantization").

For each flavour (ids, strings) and quantize mode (none, float16, dynamic-int8, int8; int8 on ids
only, calibrated as ``tf-pipeline convert`` does: the first 200 training sentences, and also on 60),
converts the model, then measures on the shipped evaluation and critics splits: file size, top-1
agreement and largest probability difference with the TF pipeline, and accuracy of both. The TF
pipeline runs once per split. Writes JSON (rewritten after each mode, so a long run keeps what it
measured) and prints a Markdown table.

Example:
    .venv/bin/python scripts/tflite_modes.py --model default small --output benchmarks/tflite_modes.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

SPLITS = ("evaluation", "critics")
MODES = (("ids", "none", None), ("ids", "float16", None), ("ids", "dynamic-int8", None), ("ids", "int8", 200),
         ("ids", "int8", 60), ("strings", "none", None), ("strings", "float16", None),
         ("strings", "dynamic-int8", None))


def measure_model(name: str, results: dict, output: Path) -> None:
    """Convert ``name`` (``default``, ``small`` or a folder) in every mode; add rows to ``results[name]``."""
    from tf_pipeline.api import load_pipeline
    from tf_pipeline.export.tflite.convert import convert_to_tflite
    from tf_pipeline.export.tflite.runtime import TFLitePipeline
    from tf_pipeline.training.data import sentiment_set
    from tf_pipeline.training.evaluate import probabilities

    pipe = load_pipeline(None if name == "default" else name)
    labels = list(pipe.task.labels)
    splits = {split: sentiment_set(split) for split in SPLITS}
    truth = {split: np.array([labels.index(str(example.label)) for example in examples])
             for split, examples in splits.items()}
    reference = {split: probabilities(pipe, [example.text for example in examples]) for split, examples in splits.items()}
    entry = results[name] = {"model": pipe.source, "texts": {split: len(v) for split, v in splits.items()},
                             "tf_accuracy": {split: _accuracy(reference[split], truth[split]) for split in SPLITS},
                             "modes": []}
    calibration = [example.text for example in sentiment_set("train")]
    with tempfile.TemporaryDirectory() as folder:
        for flavour, quantize, calibrated in MODES:
            began = time.perf_counter()
            path = convert_to_tflite(pipe, Path(folder) / f"{flavour}-{quantize}-{calibrated}.tflite", quantize=quantize,
                                     flavour=flavour, representative_texts=calibration[:calibrated] if calibrated else None)
            seconds = time.perf_counter() - began
            lite = TFLitePipeline(path)
            row = {"flavour": flavour, "quantize": quantize, "calibration_texts": calibrated,
                   "size_mb": round(path.stat().st_size / 1e6, 1), "convert_s": round(seconds, 1)}
            for split, examples in splits.items():
                ours = probabilities(lite, [example.text for example in examples])
                row[split] = {"top1_agreement": float(np.mean(ours.argmax(-1) == reference[split].argmax(-1))),
                              "max_probability_difference": float(np.max(np.abs(ours - reference[split]))),
                              "accuracy": _accuracy(ours, truth[split])}
            entry["modes"].append(row)
            output.write_text(json.dumps(results, indent=2) + "\n")
            print(json.dumps(row), flush=True)
            path.unlink()


def _accuracy(scores: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(scores.argmax(-1) == truth))


def table(entry: dict) -> str:
    """One model's rows as Markdown."""
    head = ("| flavour | mode | size | agreement with TF (evaluation / critics) | max prob. difference | "
            "accuracy (evaluation / critics) |\n| --- | --- | --- | --- | --- | --- |")
    rows = [head]
    for row in entry["modes"]:
        mode = row["quantize"] + (f", {row['calibration_texts']} calibration texts" if row["calibration_texts"] else "")
        agreement = " / ".join(f"{100 * row[s]['top1_agreement']:.1f}%" for s in SPLITS)
        difference = max(row[s]["max_probability_difference"] for s in SPLITS)
        accuracy = " / ".join(f"{100 * row[s]['accuracy']:.1f}%" for s in SPLITS)
        rows.append(f"| {row['flavour']} | {mode} | {row['size_mb']} MB | {agreement} | {difference:.2g} | {accuracy} |")
    tf_accuracy = " / ".join(f"{100 * entry['tf_accuracy'][s]:.1f}%" for s in SPLITS)
    rows.append(f"| TF pipeline | | | | | {tf_accuracy} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", default=["default"], help="default (the MPNet default), small, or checkpoint folders")
    parser.add_argument("--output", default="benchmarks/tflite_modes.json")
    args = parser.parse_args()
    output = Path(args.output)
    results = json.loads(output.read_text()) if output.exists() else {}
    for name in args.model:
        measure_model(name, results, output)
        print(table(results[name]))


if __name__ == "__main__":
    main()
