"""The benchmark harness runs every variant and writes its numbers and chart (speed is not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

from tf_pipeline.bench import VARIANTS, benchmark_texts, flops_per_token
from tf_pipeline.cli import VARIANT_NAMES


def test_bench_cli_writes_results_and_chart(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("bert")
    output = tmp_path / "results.json"
    cli = str(Path(sys.executable).parent / "tf-pipeline")
    done = subprocess.run([cli, "bench", "--model", str(folder), "--texts", "24", "--slow-texts", "8",
                           "--batch-sizes", "1,8", "--output", str(output)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    results = json.loads(output.read_text())
    assert set(results["variants"]) == set(VARIANTS)
    for name, entry in results["variants"].items():
        assert set(entry["throughput"]) == {"1", "8"} and all(rate > 0 for rate in entry["throughput"].values())
        assert entry["latency_ms_p95"] >= entry["latency_ms_p50"] > 0
        assert entry["ratio_vs_hf_tf"]["1"] > 0
    assert results["variants"]["hf_tf_pipeline"]["texts"] == 8
    assert 0 < results["tokenization_share"] < 1
    assert results["saved_model_cold_start_s"] > 0 and results["matmul_peak_gflops"] > 0
    assert 0 < results["useful_share_of_matmul_peak"]
    assert output.with_suffix(".png").stat().st_size > 1000


def test_texts_and_flops():
    texts = benchmark_texts(40)
    assert len(texts) == 40 and len(set(texts)) > 30
    assert max(len(t) for t in texts) > 5 * min(len(t) for t in texts)
    assert VARIANTS == VARIANT_NAMES

    class Config:
        hidden_size, num_hidden_layers, intermediate_size = 384, 6, 1536

    assert 20e6 < flops_per_token(Config, 64) < 25e6  # MiniLM-L6: ~2 × 10.6M weights per token
