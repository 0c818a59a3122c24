"""Each benchmark runner in its own process: a JSON job in, a JSON answer out.

Ours run as ``python -m tf_pipeline.benchmark.ours`` under this interpreter; the peers that need
torch or ONNX Runtime run as scripts (:mod:`torch_reference`, :mod:`onnx_reference`) under the
torch venv's interpreter (``--torch-python``), which never shares a process with TensorFlow.

Example:
    >>> torch_python = check_torch_python(".venv-torch/bin/python", ("ort_fp32",))  # doctest: +SKIP
    >>> answer = run_job([torch_python, peer_script("ort_fp32")], job, workdir, "ort_fp32-short", torch_venv=True)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from tf_pipeline import errors

HERE = Path(__file__).parent
SETUP_HINT = "run `bash scripts/setup_torch.sh` (it makes .venv-torch) and pass --torch-python .venv-torch/bin/python"
PEER_MODULES = {  # what each torch-venv peer imports
    "hf_pt_pipeline": ("torch", "transformers"),
    "optimum_ort_pipeline": ("torch", "transformers", "onnxruntime", "optimum.onnxruntime"),
    "ort_fp32": ("torch", "transformers", "onnx", "onnxruntime.transformers.optimizer"),
    "ort_dynamic_int8": ("torch", "transformers", "onnx", "onnxruntime.quantization"),
}


def machine() -> dict:
    """What a benchmark ran on: cores, CPU model (its ratios differ by CPU kind), platform, Python.

    Example:
        >>> sorted(machine())
        ['cpu_model', 'cpus', 'platform', 'python']
    """
    return {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "platform": platform.platform(),
            "python": platform.python_version()}


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (e.g. ``Intel(R) Xeon(R) Processor``), else the platform's.

    Example:
        >>> isinstance(cpu_model(), str)
        True
    """
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def check_torch_python(torch_python: str, peers: tuple[str, ...]) -> str:
    """The interpreter's absolute path, once it has been seen to import what ``peers`` need.

    Example:
        >>> check_torch_python(".venv-torch/bin/python", ("hf_pt_pipeline",))  # doctest: +SKIP
        '/work/main/.venv-torch/bin/python'
    """
    path = os.path.abspath(torch_python)  # not resolve(): a venv's python is a symlink to the base one
    if not Path(path).is_file():
        raise errors.InvalidInputError(f"--torch-python {torch_python} is not a file; {SETUP_HINT}.")
    check_imports(path, tuple(sorted({module for peer in peers for module in PEER_MODULES[peer]})))
    return path


@functools.lru_cache(maxsize=None)
def check_imports(python: str, modules: tuple[str, ...]) -> None:
    """Raise :class:`InvalidInputError` unless ``python`` imports ``modules`` (checked once per pair)."""
    done = subprocess.run([python, "-c", f"import {', '.join(modules)}"], capture_output=True, text=True,
                          env={**os.environ, "USE_TF": "0"})
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no error message"])[-1]
        raise errors.InvalidInputError(
            f"--torch-python {python} cannot import {', '.join(modules)} ({last}); {SETUP_HINT}.")


PEER_SCRIPTS = HERE.parents[1] / "scripts" / "peers"  # outside the package: they import torch or ONNX Runtime


def peer_script(peer: str) -> str:
    """The script that runs ``peer`` (a torch-venv peer or ``"prepare"``) under the torch venv."""
    script = PEER_SCRIPTS / ("torch_reference.py" if peer == "hf_pt_pipeline" else "onnx_reference.py")
    if not script.is_file():
        raise errors.InvalidInputError(f"{script} is missing: the peers run from a source checkout of tf_pipeline.")
    return str(script)


def ours_command() -> list[str]:
    return [sys.executable, "-m", "tf_pipeline.benchmark.ours"]


def run_job(command: Sequence[str], job: dict, workdir: Path, tag: str, *, torch_venv: bool = False) -> dict:
    """Run ``command job.json answer.json`` in ``workdir`` and return the answer; a failure names ``tag``.

    ``torch_venv``: the command runs under the torch venv, where transformers must not look for TensorFlow.
    """
    job_path, answer_path = workdir / f"{tag}.job.json", workdir / f"{tag}.answer.json"
    job_path.write_text(json.dumps(job))
    done = subprocess.run([*command, str(job_path), str(answer_path)], cwd=workdir, capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                               **({"USE_TF": "0", "PYTHONPATH": str(HERE)} if torch_venv else {})})
    if done.returncode != 0:
        raise errors.TFPipelineError(f"benchmark runner {tag} failed ({command[0]}):\n{done.stderr[-3000:]}")
    answer = json.loads(answer_path.read_text())
    job_path.unlink()
    answer_path.unlink()
    return answer
