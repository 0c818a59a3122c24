#!/usr/bin/env bash
# Set up (idempotent) and run the full benchmark on the default model: benchmarks/results.json + .png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/tf-pipeline bench "$@"
