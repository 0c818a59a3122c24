"""The benchmark's chart: one panel per text set, texts/s of every runner at each batch size, and
over each of ours its ratio to ONNX Runtime of the same precision at batch 32.

Example:
    >>> chart(json.loads(Path("benchmarks/results.json").read_text()), Path("benchmarks/results.png"))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATIO_BATCH = "32"  # the batch size the chart's ratio labels are for


def chart(results: dict, path: Path) -> None:
    """Grouped bars (log scale), one panel per text set; peers' names in italics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = results["text_sets"]
    figure, panels = plt.subplots(len(sets), 1, figsize=(12, 4.5 * len(sets)), squeeze=False)
    for axes, (name, result) in zip(panels[:, 0], sets.items()):
        _panel(axes, result, f"{name}: {result['texts']} texts, mean {result['mean_tokens']:.0f} tokens, "
                             f"{results['machine']['cpus']} CPU cores")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _panel(axes, result: dict, title: str) -> None:
    variants = list(result["variants"])
    sizes = sorted({size for entry in result["variants"].values() for size in entry["throughput"]}, key=int)
    width = 0.8 / max(len(sizes), 1)
    for offset, size in enumerate(sizes):
        values = [result["variants"][name]["throughput"].get(size, 0) for name in variants]
        axes.bar(np.arange(len(variants)) + offset * width, values, width, label=f"batch {size}")
        if size == RATIO_BATCH:
            for index, (name, value) in enumerate(zip(variants, values)):
                if label := ratio_label(name, result["variants"][name]):
                    axes.annotate(label, (index + offset * width, value), textcoords="offset points", xytext=(0, 3),
                                  ha="center", fontsize="x-small")
    axes.set_xticks(np.arange(len(variants)) + width * (len(sizes) - 1) / 2, variants, rotation=20, ha="right")
    for label in axes.get_xticklabels():
        if "ratio_vs" not in result["variants"][label.get_text()]:  # a peer (ours carry ratios to peers)
            label.set_fontstyle("italic")
    axes.set_yscale("log")
    axes.set_ylim(top=axes.get_ylim()[1] * 1.5)  # room for the ratio labels
    axes.set_ylabel("texts / second")
    axes.set_title(f"{title}\npeers in italics; over ours: texts/s ÷ ONNX Runtime's of the same precision, batch {RATIO_BATCH}")
    axes.legend(fontsize="small")


def ratio_label(name: str, entry: dict, batch: str = RATIO_BATCH) -> str | None:
    """``"1.35×"``: one of ours against ONNX Runtime of its precision (fp32 or int8), when that peer ran.

    Example:
        >>> ratio_label("tflite_dynamic_int8", {"ratio_vs": {"ort_dynamic_int8": {"32": 1.86}}})
        '1.86×'
    """
    peer = "ort_dynamic_int8" if "int8" in name else "ort_fp32"
    ratio = entry.get("ratio_vs", {}).get(peer, {}).get(batch)
    return f"{ratio:.2f}×" if ratio else None
