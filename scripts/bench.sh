#!/usr/bin/env bash
# Set up (idempotent) and run the full benchmark on the default model: benchmarks/results.json + .png.
# The peers that need torch or ONNX Runtime (HF's PyTorch pipeline, optimum's ORT pipeline, ORT fp32
# and dynamic-int8) run from their own venv (.venv-torch); without it (no torch wheel reachable) the
# benchmark runs without those rows.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if bash scripts/setup_torch.sh; then
    .venv/bin/tf-pipeline bench --torch-python .venv-torch/bin/python "$@"
else
    echo "bench.sh: could not set up .venv-torch; running without the PyTorch and ONNX Runtime peers" >&2
    .venv/bin/tf-pipeline bench "$@"
fi
