"""The benchmark's chart: one panel per text set, texts/s of every runner at each batch size.

Example:
    >>> chart(json.loads(Path("benchmarks/results.json").read_text()), Path("benchmarks/results.png"))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


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
    axes.set_xticks(np.arange(len(variants)) + width * (len(sizes) - 1) / 2, variants, rotation=20, ha="right")
    for label in axes.get_xticklabels():
        if "ratio_vs" not in result["variants"][label.get_text()]:  # a peer (ours carry ratios to peers)
            label.set_fontstyle("italic")
    axes.set_yscale("log")
    axes.set_ylabel("texts / second")
    axes.set_title(title + " (peers in italics)")
    axes.legend(fontsize="small")
