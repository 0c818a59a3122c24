"""The benchmark harness runs every variant in its own process and writes its numbers and chart (speed is not asserted)."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tf_pipeline.benchmark import peer_timing
from tf_pipeline.benchmark.charts import ratio_label
from tf_pipeline.benchmark.peer_timing import measure_runner
from tf_pipeline.benchmark.run import benchmark_texts, flops_per_token, goals, text_sets
from tf_pipeline.benchmark.variants import OURS, PEERS, TEXT_SETS

TORCH_PYTHON = Path(__file__).parents[2] / ".venv-torch" / "bin" / "python"
CLI = str(Path(sys.executable).parent / "tf-pipeline")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "bench", *args], capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_bench_cli_writes_results_and_chart(tiny_checkpoint, tmp_path):
    folder, _, _ = tiny_checkpoint("bert")
    output = tmp_path / "results.json"
    variants = ["hf_tf_pipeline", "tf_pipeline", "tf_pipeline_xla", "saved_model_strings", "tflite_float32",
                "tflite_dynamic_int8"]  # a process each; input order and ids-in only change what the runner is given
    done = run_cli("--model", str(folder), "--texts", "12", "--slow-texts", "6", "--batch-sizes", "1,4",
                   "--text-sets", "pairs", "--variants", ",".join(variants), "--output", str(output))
    assert done.returncode == 0, done.stderr
    results = json.loads(output.read_text())
    assert set(results["text_sets"]) == {"pairs"}  # every runner of ours reads query-passage pairs (single texts:
    # the torch peers' test below and the embeddings benchmark's)
    for result in results["text_sets"].values():
        assert list(result["variants"]) == variants  # no torch-venv peers without --torch-python
        for name, entry in result["variants"].items():
            assert set(entry["throughput"]) == {"1", "4"} and all(rate > 0 for rate in entry["throughput"].values())
            assert entry["latency_ms_p95"] >= entry["latency_ms_p50"] > 0 and entry["peak_rss_mb"] > 0
            assert entry["max_score_difference_vs_tf_pipeline"] < 1e-2  # int8 differs a little; the rest ~1e-6
            assert entry["share_of_matmul_peak"] > 0
            if name not in PEERS:
                assert entry["ratio_vs"]["hf_tf_pipeline"]["1"] > 0
        assert result["variants"]["hf_tf_pipeline"]["texts"] == 6
        assert result["variants"]["tf_pipeline_xla"]["xla_compiled_shapes"] >= 1
        assert 0 < result["tokenization_share"] < 1
        assert 0 <= result["label_agreement"]["tflite_dynamic_int8_vs_tflite_float32"] <= 1
        assert set(result["targets"]) == {"vs_hf_tf", "share_of_matmul_peak"} and result["targets"]["vs_hf_tf"]["goal"] == 10
        assert set(result["goals"]) == {"tflite_dynamic_int8_label_agreement"}  # no ORT peers to compare with
    peaks = {entry["peak_rss_mb"] for entry in results["text_sets"]["pairs"]["variants"].values()}
    assert len(peaks) > 1  # each runner's own process, not one growing maximum
    assert results["saved_model_cold_start_s"] > 0 and results["matmul_peak_gflops"] > 0
    assert results["machine"]["cpu_model"] and results["machine"]["cpus"] >= 1  # ratios differ by CPU kind
    assert output.with_suffix(".png").stat().st_size > 1000


def test_bench_cli_refuses_bad_choices_before_loading(tmp_path):
    assert "unknown variants ['nope']" in run_cli("--variants", "nope").stderr
    assert "unknown text sets ['long']" in run_cli("--text-sets", "long").stderr
    broken = run_cli("--variants", "ort_fp32", "--torch-python", str(tmp_path / "missing-python"))
    assert broken.returncode != 0 and "scripts/setup_torch.sh" in broken.stderr
    assert "--torch-python" in run_cli("--variants", "tf_pipeline,ort_fp32").stderr


def test_texts_sets_and_flops():
    texts = benchmark_texts(40)
    assert len(texts) == 40 and len(set(texts)) > 30
    assert max(len(t) for t in texts) > 5 * min(len(t) for t in texts)
    sets = text_sets(TEXT_SETS)
    assert len(sets["mixed"]) == 512 and len(sets["short"]) == 792 and len(sets["pairs"]) == 256
    assert all(len(pair["text"].split()) <= 9 < len(pair["text_pair"].split()) for pair in sets["pairs"])
    assert {name: len(texts) for name, texts in text_sets(["short"], 10).items()} == {"short": 10}

    class Config:
        hidden_size, num_hidden_layers, intermediate_size = 384, 6, 1536

    assert 20e6 < flops_per_token(Config, 64) < 25e6  # MiniLM-L6: ~2 × 10.6M weights per token


def test_every_runner_is_timed_after_an_untimed_pass_at_each_batch_size():
    """One untimed pass over all texts, then up to PASSES timed ones (the best counts), alike for every runner."""
    calls = []

    def run(texts, batch_size):
        calls.append((len(texts), batch_size))
        return [{"POSITIVE": float(len(text))} for text in texts]

    answer = measure_runner(run, ["a", "bb", "ccc"], [1, 2], latency_texts=2)
    passes = 1 + peer_timing.PASSES  # fast passes: the time budget never stops them
    assert calls == [(3, 1)] * passes + [(3, 2)] * passes + [(1, 1), (1, 1)]  # then the latencies
    assert set(answer["throughput"]) == set(answer["warmup_s"]) == set(answer["throughput_passes"]) == {"1", "2"}
    assert all(answer["throughput"][size] == max(rates) and len(rates) == peer_timing.PASSES
               for size, rates in answer["throughput_passes"].items())
    assert answer["scores"] == [{"POSITIVE": 1.0}, {"POSITIVE": 2.0}, {"POSITIVE": 3.0}]


def test_goals_report_met_and_missed():
    variants = {"tf_pipeline": {"ratio_vs": {"ort_fp32": {"1": 0.9, "32": 1.2}}},
                "tflite_dynamic_int8": {"ratio_vs": {"ort_dynamic_int8": {"32": 1.4}}}}
    report = goals({"variants": variants, "label_agreement": {"tflite_dynamic_int8_vs_tflite_float32": 0.99,
                                                              "ort_dynamic_int8_vs_ort_fp32": 0.95}})
    assert report["tf_pipeline_vs_ort_fp32_at_batch_32"] == {"goal": 1.1, "ratio": 1.2, "met": True}
    assert report["tf_pipeline_vs_ort_fp32_at_batch_1"]["met"] is False
    assert report["tflite_dynamic_int8_vs_ort_dynamic_int8_at_batch_32"]["met"] is False
    assert report["tflite_dynamic_int8_label_agreement"] == {"goal": 0.985, "value": 0.99, "met": True,
                                                             "ort_dynamic_int8_vs_ort_fp32": 0.95}
    assert [ratio_label(name, entry) for name, entry in variants.items()] == [
        "1.20×", "1.40×"]  # the chart's labels over our bars
    assert ratio_label("hf_pt_pipeline", {"throughput": {"32": 200.0}}) is None  # a peer: no label


def test_pytorch_format_weights_load_back_to_the_same_logits(tiny_checkpoint, tmp_path):
    """TF → PyTorch names and layouts (no torch), read back by the torch-free loader: same model."""
    import numpy as np
    from safetensors.numpy import load_file

    from tf_pipeline import load_checkpoint, load_pipeline
    from tf_pipeline.checkpoints.pytorch_format import save_for_pytorch

    for kind in ("bert", "distilbert", "mpnet"):
        folder, _, _ = tiny_checkpoint(kind)
        original = load_pipeline(folder)
        written = save_for_pytorch(load_checkpoint(folder), tmp_path / kind)
        weights = load_file(str(written / "model.safetensors"))
        assert any(name.startswith(("classifier.", "pre_classifier.")) for name in weights)  # the head is saved too
        reloaded = load_pipeline(written)
        texts = ["a short one", "and a rather longer text to classify here"]
        np.testing.assert_array_equal(reloaded.run(texts)["logits"],
                                      original.run(texts)["logits"])


@pytest.mark.slow
@pytest.mark.skipif(not TORCH_PYTHON.exists(), reason="no .venv-torch (scripts/setup_torch.sh makes it)")
def test_torch_venv_peers_run_on_the_same_weights(tiny_checkpoint):
    """HF's PyTorch pipeline, optimum's ORT pipeline and ORT fp32 give our scores; int8 reports its agreement."""
    from tf_pipeline import load_pipeline
    from tf_pipeline.benchmark.run import run_benchmark
    from tf_pipeline.benchmark.variants import VENV_PEERS

    pipe = load_pipeline(tiny_checkpoint("bert")[0])
    results = run_benchmark(pipe, text_sets(["short", "pairs"], 16), batch_sizes=[1, 4],
                            variants=list(VENV_PEERS), latency_texts=4, check_texts=16, torch_python=str(TORCH_PYTHON))
    pairs = results["text_sets"]["pairs"]["variants"]
    for name in ("hf_pt_pipeline", "optimum_ort_pipeline", "ort_fp32"):  # the peers read the pairs as pairs
        assert pairs[name]["max_score_difference_vs_tf_pipeline"] < 1e-4, name
    result = results["text_sets"]["short"]
    assert list(result["variants"]) == list(VENV_PEERS)
    for name in ("hf_pt_pipeline", "optimum_ort_pipeline", "ort_fp32"):
        assert result["variants"][name]["max_score_difference_vs_tf_pipeline"] < 1e-4, name
    assert result["variants"]["ort_dynamic_int8"]["max_score_difference_vs_tf_pipeline"] < 0.5
    assert 0 <= result["label_agreement"]["ort_dynamic_int8_vs_ort_fp32"] <= 1
    assert results["onnx_export"]["fused_operators"]["Attention"] >= 1  # the optimizer fused the tiny BERT too
    assert all(set(entry["throughput"]) == {"1", "4"} for entry in result["variants"].values())


def test_timed_passes_stop_at_the_time_budget(monkeypatch):
    """A slow runner gets fewer timed passes (the budget bounds the benchmark's length), never none."""
    calls = []

    def run(texts, batch_size):
        calls.append(batch_size)
        time.sleep(0.01)
        return [{"POSITIVE": 1.0} for _ in texts]

    monkeypatch.setattr(peer_timing, "PASS_BUDGET_S", 0.0)  # every pass is over it
    rates, warm_seconds, answers = peer_timing.throughput(run, ["a", "b"], 2)
    assert len(rates) == 1 and calls == [2, 2] and warm_seconds >= 0.01 and len(answers) == 2
    assert 0 < rates[0] <= 2 / 0.01


@pytest.mark.slow
def test_the_embeddings_benchmark_times_every_runtime_of_ours(tmp_path):
    """Each of our runtimes in its own process on a tiny sentence-transformers folder; cosines against the graph."""
    from tf_pipeline.benchmark.embeddings import OURS, run_embeddings_benchmark
    from tiny_models import CORPUS, make_checkpoint

    encoder = tmp_path / "st-encoder"
    make_checkpoint(encoder, "bert", base=True)
    (encoder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (encoder / "1_Pooling").mkdir()
    (encoder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True}))
    results = run_embeddings_benchmark(encoder, CORPUS[:12], batch_sizes=[1, 4], latency_texts=2)
    assert list(results["runners"]) == list(OURS) and results["ratios"] == {}  # no peers without --torch-python
    assert all(set(runner["throughput"]) == {"1", "4"} for runner in results["runners"].values())
    assert results["cosine"]["reference"] == "tf_pipeline" and results["machine"]["cpu_model"]
    for name in ("saved_model_strings", "tflite_float32"):
        assert results["cosine"][name]["min"] > 0.99999, name
    assert results["cosine"]["tflite_dynamic_int8"]["min"] > 0.9
