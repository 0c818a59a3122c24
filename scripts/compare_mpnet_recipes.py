"""Compare top-layer recipes for the MPNet default model on the validation split; write the results.

The all-mpnet-base-v2 encoder runs once over the shipped train and validation splits (its lower
layers' outputs are cached at every depth a variant needs); then each variant trains only the top
``top_layers`` layers and the standard ``TFMPNetForSequenceClassification`` head from the same
starting weights, and is scored on validation only (the evaluation split never chooses anything).
For reference: a logistic head on the frozen mean-pooled embeddings (not HF's head).
Output: benchmarks/mpnet_recipes.json — docs/training.md reads it.

    .venv/bin/python scripts/compare_mpnet_recipes.py [--only NAME,NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tf_pipeline.benchmark.processes import cpu_model  # noqa: E402
from tf_pipeline.training.data import sentiment_set  # noqa: E402
from tf_pipeline.training.recipe import Recipe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASE = Recipe(top_layers=1, epochs=3, learning_rate=1e-4, warmup=0.1, max_length=128)
VARIANTS = {
    "top 1 layer; 3 epochs; lr 1e-4": BASE,
    "top 1 layer; 3 epochs; lr 5e-5": replace(BASE, learning_rate=5e-5),
    "top 1 layer; 3 epochs; lr 2e-4": replace(BASE, learning_rate=2e-4),
    "top 1 layer; 6 epochs; lr 1e-4": replace(BASE, epochs=6),
    "top 1 layer; 3 epochs; lr 1e-4; label smoothing 0.1": replace(BASE, label_smoothing=0.1),
    "top 2 layers; 3 epochs; lr 1e-4": replace(BASE, top_layers=2),
    "top 2 layers; 3 epochs; lr 5e-5": replace(BASE, top_layers=2, learning_rate=5e-5),
    "top 3 layers; 3 epochs; lr 5e-5": replace(BASE, top_layers=3, learning_rate=5e-5),
}
REFERENCE = "frozen encoder; mean pooling; logistic head (not HF's head)"


def mean_pooled(batches) -> tuple:
    import numpy as np

    features, labels = [], []
    for hidden, mask, label in batches:
        weights = mask.numpy()[..., None].astype("float32")
        features.append((hidden.numpy() * weights).sum(1) / weights.sum(1))
        labels.append(label.numpy())
    return np.concatenate(features), np.concatenate(labels)


def logistic_reference(train_batches, validation_batches) -> float:
    import numpy as np
    import tf_keras as keras

    (x_train, y_train), (x_validation, y_validation) = mean_pooled(train_batches), mean_pooled(validation_batches)
    head = keras.Sequential([keras.layers.Dense(1, kernel_regularizer=keras.regularizers.l2(1e-4))])
    head.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    head.fit(x_train, y_train.astype("float32"), epochs=200, batch_size=256, verbose=0)
    return float(np.mean((head.predict(x_validation, verbose=0)[:, 0] > 0) == (y_validation == 1)))


def main() -> None:
    import tf_keras as keras

    from tf_pipeline import errors
    from tf_pipeline.checkpoints.loading import load_checkpoint
    from tf_pipeline.checkpoints.mpnet_encoder import mpnet_encoder_dir
    from tf_pipeline.training.top_layers import fit_top_layers, lower_states

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated variant names (default: all, and the reference)")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "mpnet_recipes.json"))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else [*VARIANTS, REFERENCE]
    train, validation = sentiment_set("train"), sentiment_set("validation")
    labels = ["NEGATIVE", "POSITIVE"]
    keras.utils.set_random_seed(BASE.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.UntrainedHeadWarning)
        checkpoint = load_checkpoint(mpnet_encoder_dir(), task="text-classification", id2label=labels)
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    layers = model.config.num_hidden_layers
    depths = sorted({layers - VARIANTS[name].top_layers for name in names if name in VARIANTS} | {layers})
    start = time.perf_counter()
    cached = {}
    for split, examples in (("train", train), ("validation", validation)):
        encoded = tokenizer([example.text for example in examples], truncation=True, max_length=BASE.max_length)
        cached[split] = lower_states(model, encoded, [labels.index(example.label) for example in examples], depths,
                                     BASE.batch_size, what=split)
    cache_seconds = time.perf_counter() - start
    print(f"lower layers cached in {cache_seconds:.0f} s", flush=True)
    initial = [weight.numpy() for weight in model.weights]
    output = Path(args.output)
    results = json.loads(output.read_text()) if output.is_file() else {}
    results.update({"data": {"train": len(train), "validation": len(validation)}, "cpu": cpu_model(),
                    "cache_seconds": round(cache_seconds, 1)})
    results.setdefault("variants", {})
    for name in names:
        start = time.perf_counter()
        if name == REFERENCE:
            entry = {"validation_accuracy": logistic_reference(cached["train"][layers], cached["validation"][layers])}
        else:
            recipe = VARIANTS[name]
            for weight, value in zip(model.weights, initial):
                weight.assign(value)
            depth = layers - recipe.top_layers
            history = fit_top_layers(model, cached["train"][depth], cached["validation"][depth], recipe)
            entry = {"validation_accuracy": history[-1]["val_accuracy"], "history": history, "settings": asdict(recipe)}
        entry["train_seconds"] = round(time.perf_counter() - start, 1)
        results["variants"][name] = entry
        print(name, entry["validation_accuracy"], entry["train_seconds"], flush=True)
        output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
