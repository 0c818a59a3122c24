#!/usr/bin/env bash
# Make the golden values with PyTorch, in a venv of its own (.venv-torch, see setup_torch.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_torch.sh
.venv-torch/bin/python scripts/make_golden.py "$@"
