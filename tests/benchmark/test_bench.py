"""The benchmark harness runs every variant and writes its numbers and chart (speed is not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tf_pipeline.benchmark.run import VARIANTS, benchmark_texts, flops_per_token
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
        assert entry["ratio_vs_hf_tf_pipeline"]["1"] > 0
    assert results["variants"]["hf_tf_pipeline"]["texts"] == 8
    assert 0 < results["tokenization_share"] < 1
    assert results["saved_model_cold_start_s"] > 0 and results["matmul_peak_gflops"] > 0
    assert all(entry["share_of_matmul_peak"] > 0 for entry in results["variants"].values())
    assert results["variants"]["tf_pipeline_xla"]["xla_compiled_shapes"] >= 1
    assert set(results["targets"]) == {"vs_hf_tf", "share_of_matmul_peak"}  # no PyTorch row without --torch-python
    assert results["targets"]["vs_hf_tf"]["goal"] == 10
    assert output.with_suffix(".png").stat().st_size > 1000


def test_texts_and_flops():
    texts = benchmark_texts(40)
    assert len(texts) == 40 and len(set(texts)) > 30
    assert max(len(t) for t in texts) > 5 * min(len(t) for t in texts)
    assert VARIANTS == VARIANT_NAMES

    class Config:
        hidden_size, num_hidden_layers, intermediate_size = 384, 6, 1536

    assert 20e6 < flops_per_token(Config, 64) < 25e6  # MiniLM-L6: ~2 × 10.6M weights per token


def test_pytorch_format_weights_load_back_to_the_same_logits(tiny_checkpoint, tmp_path):
    """TF → PyTorch names and layouts (no torch), read back by the torch-free loader: same model."""
    import numpy as np
    from safetensors.numpy import load_file

    from tf_pipeline import load_checkpoint, load_pipeline
    from tf_pipeline.checkpoints.pytorch_format import save_for_pytorch

    for kind in ("bert", "distilbert"):
        folder, _, _ = tiny_checkpoint(kind)
        original = load_pipeline(folder)
        written = save_for_pytorch(load_checkpoint(folder), tmp_path / kind)
        weights = load_file(str(written / "model.safetensors"))
        assert "classifier.weight" in weights or "pre_classifier.weight" in weights
        reloaded = load_pipeline(written)
        texts = ["a short one", "and a rather longer text to classify here"]
        np.testing.assert_array_equal(reloaded.forward(reloaded.preprocess(texts)).numpy(),
                                      original.forward(original.preprocess(texts)).numpy())


TORCH_PYTHON = Path(__file__).parents[2] / ".venv-torch" / "bin" / "python"


@pytest.mark.slow
@pytest.mark.skipif(not TORCH_PYTHON.exists(), reason="no .venv-torch (scripts/setup_torch.sh makes it)")
def test_pytorch_pipeline_runs_on_the_same_weights(tiny_checkpoint, tmp_path):
    from tf_pipeline import load_pipeline
    from tf_pipeline.benchmark.run import torch_pipeline_entry

    pipe = load_pipeline(tiny_checkpoint("bert")[0])
    entry = torch_pipeline_entry(str(TORCH_PYTHON), pipe, benchmark_texts(16), tmp_path, batch_sizes=[1, 4],
                                 latency_texts=4, check_texts=8)
    assert set(entry["throughput"]) == {"1", "4"}
    assert entry["max_score_difference_vs_tf_pipeline"] < 1e-4
