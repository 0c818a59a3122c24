"""Check an export as TF Serving would use it: the ops each TF Serving release links, and every
signature's answers against a reference.

A fresh Python process (``tf_pipeline.export.saved_model.serving_check``) that never imports transformers
loads the version folder with TF1's session loader and the ``serve`` tag, audits its ops and runs
every signature. The reference is the eager pipeline on the source checkpoint when it is still
there (or ``model=``), answered by the export's task: every output the signatures share with it
(labels equal, probabilities or embeddings within 1e-5). Without it the export checks
itself: its text signatures against ``predict_ids`` on the ids of the tokenizer it carries.

TF Serving links tensorflow-text into its server: 2.12.1 in releases 2.12 – 2.19, 2.20 from 2.20
on (tensorflow/serving's workspace.bzl). The op audit says which releases can load the export.

Example:
    >>> report = verify_export("saved_models/sentiment/1", tf_serving="2.15")   # doctest: +SKIP
    >>> report.ok                                                              # doctest: +SKIP
    True
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

from tf_pipeline import errors
from tf_pipeline.export.layout import PAIRS_SIGNATURE, latest_version_dir, load_export_tokenizer, read_metadata
from tf_pipeline.tasks.inputs import TextPair
from tf_pipeline.tokenizers.hf import encode

TOLERANCE = 1e-5
TF_TEXT_BY_TF_SERVING = (  # (first TF Serving release, last or None, TF Text it links, op list)
    ((2, 12), (2, 19), "2.12.1", "tf_text_2_12_ops.txt"),
    ((2, 20), None, "2.20", "tf_text_2_20_ops.txt"),
)
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
    """Each check as (name, passed, detail); ``ok`` when all passed. ``notes`` inform, never fail."""

    export_dir: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ops: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for _, passed, _ in self.checks)

    def add(self, name: str, passed: bool, detail: str = "") -> None:
        self.checks.append((name, bool(passed), detail))

    def __str__(self) -> str:
        lines = [f"{'PASS' if passed else 'FAIL'}  {name}  {detail}".rstrip() for name, passed, detail in self.checks]
        lines += [f"INFO  {note}" for note in self.notes]
        return "\n".join(lines + [f"{'OK' if self.ok else 'FAILED'}: {self.export_dir}"])


def tf_text_ops(list_file: str) -> set[str]:
    """The ops one tensorflow-text release registers (made by scripts/list_tf_text_ops.py)."""
    text = Path(__file__).with_name(list_file).read_text()
    return {line for line in text.split() if line and not line.startswith("#")}


def releases_text(first: tuple, last: tuple | None) -> str:
    name = ".".join(map(str, first))
    return f"TF Serving {name} – {'.'.join(map(str, last))}" if last else f"TF Serving ≥ {name}"


def tf_serving_range(version: str) -> tuple:
    """The row of :data:`TF_TEXT_BY_TF_SERVING` for a TF Serving release such as "2.15" or "2.19.1"."""
    try:
        release = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        release = ()
    if len(release) != 2:
        raise errors.InvalidInputError(f"--tf-serving takes a release like 2.15 or 2.20.1, got {version!r}.")
    for row in TF_TEXT_BY_TF_SERVING:
        first, last = row[0], row[1]
        if release >= first and (last is None or release <= last):
            return row
    raise errors.InvalidInputError(
        f"TF Serving {version} links a tensorflow-text older than 2.12.1, whose ops tf_pipeline does not list; "
        "releases 2.12 and later can be checked."
    )


def serving_check(export_dir: Path, texts: Sequence[str], ids: dict, pairs: Sequence[str] = (),
                  pair_ids: dict | None = None, requests: dict | None = None) -> dict:
    """Run tf_pipeline.export.saved_model.serving_check in a fresh interpreter and return its JSON report."""
    request = {"texts": list(texts), "ids": ids, "pairs": list(pairs), "pair_ids": pair_ids, "requests": requests or {}}
    done = subprocess.run(
        [sys.executable, "-m", "tf_pipeline.export.saved_model.serving_check", str(export_dir)],
        input=json.dumps(request), capture_output=True, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=900,
    )
    if done.returncode != 0:
        raise errors.BrokenCheckpointError(f"Loading {export_dir} as TF Serving does failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def verify_export(export_dir: str | os.PathLike, *, model: str | None = None, tf_serving: str | None = None,
                  texts: Sequence[str] = VERIFY_TEXTS) -> VerifyReport:
    """Load ``export_dir`` as TF Serving does and compare every signature with the reference.

    ``model``: the checkpoint to compare with (default: the export's source, if it still exists).
    ``tf_serving``: a release (e.g. "2.15") that must be able to load the export.
    """
    export_dir = latest_version_dir(export_dir)
    if not isinstance(export_dir, Path):
        raise errors.InvalidInputError(f"verify checks a local export; copy {export_dir} here first (gsutil cp -r).")
    metadata = read_metadata(export_dir)
    wanted = tf_serving_range(tf_serving) if tf_serving else None
    report = VerifyReport(str(export_dir))
    reference = _reference_pipeline(model, metadata)
    tokenizer = reference.tokenizer if reference else load_export_tokenizer(export_dir)
    ids = _ids(tokenizer, texts, metadata)
    task = metadata.make_task()
    pairs = ([TextPair(text, texts[(index + 1) % len(texts)]) for index, text in enumerate(texts)]
             if PAIRS_SIGNATURE in metadata.signatures else [])

    requests = task.serving_requests(texts) if metadata.text_in else {}
    result = serving_check(export_dir, texts, ids, [pair.text_pair for pair in pairs],
                           _ids(tokenizer, pairs, metadata) if pairs else None, requests)
    report.add("fresh process without transformers", not result["transformers_imported"])
    _audit(report, result["ops"], wanted)
    signatures = result["signatures"]
    if reference is not None:
        report.add("task settings equal the reference's", reference.task == task,
                   "" if reference.task == task else f"export {task.settings()}, reference {reference.task.settings()}")
        expected = _graph_answers(reference.task, reference.run(list(texts)))
        task = reference.task
        report.notes.append(f"reference: the eager pipeline on {reference.source}")
    else:
        expected = {name: np.array(value) for name, value in signatures["predict_ids"]["outputs"].items()}
        report.notes.append("reference: the export's predict_ids on the ids of the tokenizer it carries "
                            "(the source checkpoint is gone; pass --model to compare the weights too)")
    if task.classify_signature:
        import tensorflow as tf

        classify = task.classify_outputs({name: tf.constant(value) for name, value in expected.items()})
        expected = {**expected, **{name: value.numpy() for name, value in classify.items()}}
    for name, signature in sorted(signatures.items()):
        if "classes" in signature["outputs"]:
            report.add(f"{name}: method {signature['method_name']}", signature["method_name"].endswith("/classify"))
        if name in requests:  # a task's own signature: its answers computed eagerly
            from tf_pipeline.export.saved_model.runtime import SavedModelPipeline

            answering = reference if reference is not None else SavedModelPipeline(export_dir)
            _compare(report, name, signature["outputs"], task.request_answers(answering, requests[name]), len(texts))
            continue
        if name == PAIRS_SIGNATURE:
            pair_expected = (_graph_answers(task, reference.run(pairs)) if reference is not None
                             else {key: np.array(value) for key, value in result["pair_reference"].items()})
            _compare(report, name, signature["outputs"], pair_expected, len(pairs))
            continue
        _compare(report, name, signature["outputs"], expected, len(texts))
    report.add(*_saved_model_cli(export_dir))
    return report


def _ids(tokenizer, texts: Sequence, metadata) -> dict[str, list]:
    """The token ids of ``texts`` (texts or pairs) that the export's ``predict_ids`` takes, as lists."""
    return {name: values.tolist() for name, values in encode(tokenizer, texts, metadata.max_length, "np").items()
            if name in metadata.input_names}


def _graph_answers(task, outputs: dict) -> dict[str, np.ndarray]:
    """What the export's signatures should answer for the reference's outputs (the task's graph answers)."""
    import tensorflow as tf

    answers = task.graph_answers({name: tf.constant(value) for name, value in outputs.items()})
    return {name: value.numpy() for name, value in answers.items()}


def _reference_pipeline(model: str | None, metadata):
    """The eager pipeline on ``model`` or on the export's source while that still exists, else None."""
    from tf_pipeline.runners.graph import GraphPipeline

    source = model or (metadata.source if (Path(metadata.source) / "config.json").is_file() else None)
    if not source:
        return None
    return GraphPipeline.from_pretrained(source, task=metadata.task, max_length=metadata.max_length)


def _audit(report: VerifyReport, ops: dict, wanted: tuple | None) -> None:
    """No op outside core TensorFlow and tensorflow-text; which TF Serving releases have them all."""
    other = set(ops["other"])
    known = set().union(*(tf_text_ops(row[3]) for row in TF_TEXT_BY_TF_SERVING))
    unknown = sorted(other - known)
    report.ops = {**ops, "unknown": unknown}
    report.add("op audit: core TensorFlow + tensorflow-text only", not unknown,
               f"{len(ops['core'])} core, {len(other - set(unknown))} tensorflow-text"
               + (f", unknown: {unknown}" if unknown else ""))
    for row in TF_TEXT_BY_TF_SERVING:
        missing = sorted(other - tf_text_ops(row[3]))
        verdict = "loads" if not missing else f"cannot load (its tensorflow-text {row[2]} lacks {', '.join(missing)})"
        if row is wanted:
            report.add(f"{releases_text(row[0], row[1])} (tensorflow-text {row[2]})", not missing, verdict)
        else:
            report.notes.append(f"{releases_text(row[0], row[1])} (tensorflow-text {row[2]}): {verdict}")


def _compare(report: VerifyReport, name: str, outputs: dict, expected: dict, count: int) -> None:
    """One check per output the signature shares with the reference: strings equal, numbers within tolerance."""
    shared = sorted(set(outputs) & set(expected) - {"valid"})
    if not shared:
        report.add(f"{name}: outputs", False, f"none of {sorted(outputs)} is among the reference's {sorted(expected)}")
    for output in shared:
        got, want = np.array(outputs[output]), np.asarray(expected[output])
        check = f"{name}: {output}"
        if got.shape != want.shape:
            report.add(check, False, f"shape {list(got.shape)}, the reference's {list(want.shape)}")
        elif want.dtype.kind in "SUO":
            want_text = [value.decode() if isinstance(value, bytes) else str(value) for value in want.ravel()]
            report.add(f"{check} equal", [str(value) for value in got.ravel()] == want_text, f"{count} texts")
        else:
            difference = float(np.max(np.abs(got.astype(np.float64) - want), initial=0.0))
            report.add(f"{check} within {TOLERANCE}", difference <= TOLERANCE, f"max difference {difference:.2e}")


def _saved_model_cli(export_dir: Path) -> tuple[str, bool, str]:
    cli = Path(sys.executable).with_name("saved_model_cli")
    done = subprocess.run([str(cli), "show", "--dir", str(export_dir), "--all"], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=600)
    detail = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or [""])[-1]
    return "saved_model_cli show --all", done.returncode == 0 and "serving_default" in done.stdout, detail
