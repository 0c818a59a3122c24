#!/usr/bin/env bash
# Set up (idempotent) and run the full benchmark on the default model: benchmarks/results.json + .png.
# HF's PyTorch pipeline joins the table from its own venv (.venv-torch); without it (no torch wheel
# reachable) the benchmark runs without that row.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if bash scripts/setup_torch.sh; then
    .venv/bin/tf-pipeline bench --torch-python .venv-torch/bin/python "$@"
else
    echo "bench.sh: could not set up .venv-torch; running without HF's PyTorch pipeline" >&2
    .venv/bin/tf-pipeline bench "$@"
fi
