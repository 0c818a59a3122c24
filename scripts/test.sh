#!/usr/bin/env bash
# Set up (idempotent) and run the tests on 2 worker processes (pytest-xdist; tests wait on
# subprocesses and single-threaded conversions much of the time). Extra arguments go to pytest and
# come last, so they win: e.g. -m "not slow", or -n 0 for one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -n 2 "$@"
