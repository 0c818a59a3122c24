"""Compare fine-tuning recipes for the default model on the validation split; write the results.

Each variant fine-tunes the embedded MiniLM-L6 encoder on the shipped train split and is scored on
the validation split only (the evaluation split is never used to choose settings). Besides
:class:`Recipe` variants, two non-standard heads are measured for reference: a logistic head on
the frozen encoder's mean-pooled embeddings, and full fine-tuning through a mean-pooled head.
Output: benchmarks/recipes.json (accuracy, loss, seconds per variant) — docs/training.md reads it.

    .venv/bin/python scripts/compare_recipes.py [--only NAME,NAME] [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tf_pipeline.training.data import sentiment_set  # noqa: E402
from tf_pipeline.training.recipe import Recipe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASE = Recipe(epochs=1, learning_rate=5e-5, warmup=0.1, max_length=128, freeze_embeddings=False)  # one epoch fits the 5-minute build
VARIANTS = {
    "base (1 epoch; lr 5e-5; warm-up 10%)": BASE,
    "lr 1e-4": replace(BASE, learning_rate=1e-4),
    "frozen embeddings": replace(BASE, freeze_embeddings=True),
    "weight average 0.99": replace(BASE, weight_average=0.99),
    "label smoothing 0.1": replace(BASE, label_smoothing=0.1),
    "lr 3e-5": replace(BASE, learning_rate=3e-5),
    "max length 64": replace(BASE, max_length=64),
    "2 epochs": replace(BASE, epochs=2),
    "2 epochs; frozen embeddings": replace(BASE, epochs=2, freeze_embeddings=True),
    "2 epochs; frozen embeddings; max length 64": replace(BASE, epochs=2, freeze_embeddings=True, max_length=64),
    "2 epochs; frozen embeddings; lr 1e-4": replace(BASE, epochs=2, freeze_embeddings=True, learning_rate=1e-4),
    "2 epochs; frozen embeddings + 2 layers": replace(BASE, epochs=2, freeze_embeddings=True, frozen_layers=2),
    "2 epochs; frozen embeddings + 2 layers; lr 1e-4": replace(BASE, epochs=2, freeze_embeddings=True, frozen_layers=2,
                                                              learning_rate=1e-4),
    "contrastive 1 + 1 epoch": replace(BASE, contrastive_epochs=1),
    "previous recipe (Adam 5e-5 constant; early stopping; up to 3 epochs)": replace(
        BASE, epochs=3, warmup=0.0, weight_decay=0.0, patience=1),
}
REFERENCES = ("frozen encoder; mean pooling; logistic head", "mean-pooled head; full fine-tuning (1 epoch)")


def run_recipe(recipe: Recipe, train, validation, folder: Path) -> dict:
    from tf_pipeline.training.evaluate import evaluate
    from tf_pipeline.training.finetune import finetune

    start = time.perf_counter()
    result = finetune(train, folder, recipe=recipe, validation_data=validation, overwrite=True, progress=False)
    seconds = time.perf_counter() - start
    return {"validation_accuracy": evaluate(result.pipeline, validation)["accuracy"],
            "validation_loss": result.history[-1]["val_loss"], "seconds": round(seconds, 1),
            "settings": asdict(recipe)}


def mean_pooled_embeddings(encoder, tokenizer, texts, batch_size=64):
    import numpy as np

    rows = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True, max_length=128, return_tensors="tf")
        hidden = encoder(**dict(batch), training=False)[0].numpy()
        mask = batch["attention_mask"].numpy()[..., None]
        rows.append((hidden * mask).sum(1) / mask.sum(1))
    return np.concatenate(rows)


def run_reference(name: str, train, validation, seed: int) -> dict:
    import numpy as np
    import tensorflow as tf
    import tf_keras as keras

    from tf_pipeline.checkpoints.loading import load_checkpoint
    from tf_pipeline.checkpoints.locations import default_encoder_dir
    from tf_pipeline.training.finetune import _fit, make_dataset

    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    checkpoint = load_checkpoint(default_encoder_dir(), task="feature-extraction")
    encoder, tokenizer = checkpoint.model, checkpoint.tokenizer
    truth = np.array([example.label == "POSITIVE" for example in validation])
    if name == REFERENCES[0]:
        features = [mean_pooled_embeddings(encoder, tokenizer, [e.text for e in split]) for split in (train, validation)]
        head = keras.Sequential([keras.layers.Dense(1, kernel_regularizer=keras.regularizers.l2(1e-4))])
        head.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.BinaryCrossentropy(from_logits=True))
        head.fit(features[0], np.array([e.label == "POSITIVE" for e in train], np.float32), epochs=200,
                 batch_size=256, verbose=0)
        guesses = head.predict(features[1], verbose=0)[:, 0] > 0
    else:
        labels = ["NEGATIVE", "POSITIVE"]
        body = getattr(encoder, encoder.base_model_prefix)

        class MeanPooledClassifier(keras.Model):
            def __init__(self):
                super().__init__()
                self.body, self.dropout, self.head = body, keras.layers.Dropout(0.1), keras.layers.Dense(2)

            def call(self, inputs, training=False):
                hidden = self.body(**inputs, training=training)[0]
                mask = tf.cast(inputs["attention_mask"], hidden.dtype)[..., None]
                pooled = tf.reduce_sum(hidden * mask, 1) / tf.reduce_sum(mask, 1)
                return self.head(self.dropout(pooled, training=training))

        model = MeanPooledClassifier()
        names = ("input_ids", "token_type_ids", "attention_mask")
        datasets = [make_dataset(split, tokenizer, labels, max_length=128, batch_size=32, shuffle=shuffle,
                                 seed=seed, input_names=names) for split, shuffle in ((train, True), (validation, False))]
        steps = sum(1 for _ in datasets[0])
        _fit(model, datasets[0], datasets[1], replace(BASE, seed=seed), steps, progress=False)
        guesses = np.concatenate([np.argmax(model(features, training=False), -1) == 1 for features, _ in datasets[1]])
    return {"validation_accuracy": float(np.mean(guesses == truth)), "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated variant names (default: all)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds; accuracy is averaged (default: 0)")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "recipes.json"))
    args = parser.parse_args()
    train, validation = sentiment_set("train"), sentiment_set("validation")
    names = args.only.split(",") if args.only else [*VARIANTS, *REFERENCES]
    output = Path(args.output)
    results = json.loads(output.read_text()) if output.is_file() else {}
    results.setdefault("variants", {})
    results["data"] = {"train": len(train), "validation": len(validation)}
    for name in names:
        runs = []
        for seed in map(int, args.seeds.split(",")):
            if name in VARIANTS:
                runs.append(run_recipe(replace(VARIANTS[name], seed=seed), train, validation, ROOT / "saved_models" / ".recipe-trial"))
            else:
                runs.append(run_reference(name, train, validation, seed))
            print(name, seed, runs[-1]["validation_accuracy"], runs[-1]["seconds"], flush=True)
        results["variants"][name] = {
            "validation_accuracy": sum(run["validation_accuracy"] for run in runs) / len(runs),
            "runs": runs,
        }
        output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
