"""Check an export as TF Serving would use it, against the eager pipeline on the same weights.

A fresh Python process (``tf_pipeline.serving_check``) that never imports transformers loads
the version folder with TF1's session loader and the ``serve`` tag, audits its ops and runs
every signature; this process compares the answers with the eager pipeline (labels equal,
probabilities within 1e-5) and runs ``saved_model_cli show --all``.

Example:
    >>> report = verify_export("saved_models/sentiment/1")
    >>> report.ok, report.checks
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from . import errors

TOLERANCE = 1e-5
VERIFY_TEXTS = (
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
    "Not bad at all, I would buy it again.",
    "Hardly worth the money; it broke within a month.",
    "Café déjà vu: the crème brûlée was naïve but délicieux!!!",
    "東京の天気は晴れです and 北京 is far away",
    "emoji time 😀🎉 great party 👍🏽",
    "WHY IS EVERYTHING IN CAPITALS?!?! ... ---",
    "tabs\tand\nnewlines\r\nand\u00a0odd\u2003spaces",
    "a very long review " * 200,
)


@dataclass
class VerifyReport:
    """Each check as (name, passed, detail); ``ok`` when all passed."""

    export_dir: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    ops: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for _, passed, _ in self.checks)

    def add(self, name: str, passed: bool, detail: str = "") -> None:
        self.checks.append((name, bool(passed), detail))

    def __str__(self) -> str:
        lines = [f"{'PASS' if passed else 'FAIL'}  {name}  {detail}".rstrip() for name, passed, detail in self.checks]
        return "\n".join(lines + [f"{'OK' if self.ok else 'FAILED'}: {self.export_dir}"])


def read_metadata(export_dir: Path) -> dict:
    from .serving import METADATA_FILE

    path = export_dir / "assets.extra" / METADATA_FILE
    if not (export_dir / "saved_model.pb").is_file() or not path.is_file():
        raise errors.CheckpointNotFoundError(
            f"{export_dir} is not a tf_pipeline export version folder (expected saved_model.pb and "
            f"assets.extra/{METADATA_FILE}); pass e.g. saved_models/NAME/1."
        )
    return json.loads(path.read_text())


def serving_check(export_dir: Path, texts: Sequence[str], ids: dict) -> dict:
    """Run tf_pipeline.serving_check in a fresh interpreter and return its JSON report."""
    done = subprocess.run(
        [sys.executable, "-m", "tf_pipeline.serving_check", str(export_dir)],
        input=json.dumps({"texts": list(texts), "ids": ids}), capture_output=True, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=900,
    )
    if done.returncode != 0:
        raise errors.BrokenCheckpointError(f"Loading {export_dir} as TF Serving does failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def verify_export(export_dir: str | os.PathLike, *, model: str | None = None,
                  texts: Sequence[str] = VERIFY_TEXTS) -> VerifyReport:
    """Load ``export_dir`` as TF Serving does and compare every signature with the eager pipeline."""
    from .pipeline import load_pipeline

    export_dir = Path(export_dir)
    metadata = read_metadata(export_dir)
    report = VerifyReport(str(export_dir))
    pipe = load_pipeline(model or metadata["source"], max_length=metadata["max_length"])
    inputs = pipe.preprocess(list(texts))
    expected = pipe.scores(pipe.forward(inputs)).numpy()
    expected_labels = [pipe.labels[index] for index in expected.argmax(axis=-1)]
    ids = {name: tensor.numpy().tolist() for name, tensor in inputs.items() if name in pipe.input_names}

    result = serving_check(export_dir, texts, ids)
    report.ops = result["ops"]
    report.add("fresh process without transformers", not result["transformers_imported"])
    report.add("op audit: core TensorFlow + tensorflow-text 2.20 only", not report.ops["unknown"],
               f"{len(report.ops['core'])} core, {len(report.ops['tensorflow_text'])} tensorflow-text"
               + (f", unknown: {report.ops['unknown']}" if report.ops["unknown"] else ""))
    for name, signature in sorted(result["signatures"].items()):
        outputs = signature["outputs"]
        if "classes" in outputs:
            report.add(f"{name}: method {signature['method_name']}", signature["method_name"].endswith("/classify"))
            probabilities, labels = np.array(outputs["scores"]), [row[int(np.argmax(s))] for row, s in zip(outputs["classes"], outputs["scores"])]
        else:
            probabilities, labels = np.array(outputs["probabilities"]), outputs["label"]
        difference = float(np.max(np.abs(probabilities - expected)))
        report.add(f"{name}: labels equal", labels == expected_labels, f"{len(texts)} texts")
        report.add(f"{name}: probabilities within {TOLERANCE}", difference <= TOLERANCE, f"max difference {difference:.2e}")
    report.add(*_saved_model_cli(export_dir))
    return report


def _saved_model_cli(export_dir: Path) -> tuple[str, bool, str]:
    cli = Path(sys.executable).with_name("saved_model_cli")
    done = subprocess.run([str(cli), "show", "--dir", str(export_dir), "--all"], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=600)
    detail = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or [""])[-1]
    return "saved_model_cli show --all", done.returncode == 0 and "serving_default" in done.stdout, detail
