"""Fine-tune a sequence classifier with Keras ``compile``/``fit`` on a labelled CSV or JSONL file.

The data goes through tf.data (tokenized, shuffled, batched, padded per batch); early
stopping on validation loss keeps the best epoch's weights. The output folder is a
checkpoint ``load_pipeline`` loads (config with labels, tokenizer, ``tf_model.h5``) plus
``metrics.json``. It is written atomically: built beside the target, then renamed.

Example:
    >>> result = finetune("reviews.csv", "saved_models/reviews", epochs=3)
    >>> load_pipeline("saved_models/reviews")("not bad at all")
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Sequence

from . import errors
from .atomic import atomic_folder
from .checkpoint import load_checkpoint
from .data import LabelledText, read_labelled

logger = logging.getLogger(__name__)


@dataclass
class FinetuneResult:
    """Where the checkpoint went and how training went, epoch by epoch."""

    output: str
    labels: list[str]
    best_epoch: int
    history: list[dict[str, float]] = field(default_factory=list)
    train_size: int = 0
    validation_size: int = 0
    source: str = ""
    settings: dict = field(default_factory=dict)
    pipeline: object = field(default=None, repr=False, compare=False)

    def metrics(self) -> dict:
        """What metrics.json holds: everything but the in-memory pipeline."""
        return {item.name: getattr(self, item.name) for item in fields(self) if item.name != "pipeline"}


def label_names(train: Sequence[LabelledText], validation: Sequence[LabelledText]) -> list[str]:
    """Label names in id order: ``LABEL_i`` when labels are integer ids, else the names sorted."""
    names = {example.label for example in train}
    if len(names) < 2:
        raise errors.InvalidInputError(
            f"The training data has only one label ({', '.join(map(str, names))}); a classifier needs two or more."
        )
    unseen = [example for example in validation if example.label not in names]
    if unseen:
        first = unseen[0]
        raise errors.InvalidInputError(
            f"{first.source}: validation label {first.label!r} never occurs in the training data."
        )
    if all(isinstance(name, int) for name in names):
        return [f"LABEL_{index}" for index in range(max(names) + 1)]
    return sorted(str(name) for name in names)


def label_id(label: str | int, names: Sequence[str]) -> int:
    """The id of one example's label: the integer itself, or the name's position."""
    return label if isinstance(label, int) else names.index(str(label))


def split_validation(examples: list[LabelledText], fraction: float, seed: int):
    """A seeded, label-stratified split: (train, validation)."""
    import random

    if not 0 < fraction < 1:
        raise errors.InvalidInputError(f"validation_split must be between 0 and 1, got {fraction}.")
    rng = random.Random(seed)
    train, validation = [], []
    for label in sorted({example.label for example in examples}, key=str):
        group = [example for example in examples if example.label == label]
        rng.shuffle(group)
        cut = round(len(group) * fraction) if len(group) > 1 else 0
        validation += group[:cut]
        train += group[cut:]
    return train, validation


def make_dataset(examples, tokenizer, names: Sequence[str], *, max_length: int, batch_size: int,
                 shuffle: bool, seed: int, input_names: Sequence[str]):
    """tf.data: token ids (tokenized once), shuffled, batched and padded to each batch's longest text."""
    import tensorflow as tf

    encoded = tokenizer([example.text for example in examples], truncation=True, max_length=max_length)
    labels = [label_id(example.label, names) for example in examples]
    features = {name: tf.ragged.constant(encoded[name], dtype=tf.int32) for name in input_names}
    dataset = tf.data.Dataset.from_tensor_slices((features, tf.constant(labels, tf.int32)))
    if shuffle:
        dataset = dataset.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
    pad_id = tokenizer.pad_token_id or 0

    def pad(features, labels):
        return {name: value.to_tensor(pad_id if name == "input_ids" else 0) for name, value in features.items()}, labels

    return dataset.ragged_batch(batch_size).map(pad).prefetch(tf.data.AUTOTUNE)


def finetune(
    data: str | os.PathLike | Sequence[LabelledText],
    output: str | os.PathLike,
    *,
    model: str | os.PathLike | None = None,
    epochs: int = 4,
    batch_size: int = 16,
    learning_rate: float = 5e-5,
    max_length: int = 128,
    validation_split: float = 0.1,
    validation_data: str | os.PathLike | Sequence[LabelledText] | None = None,
    seed: int = 0,
    patience: int = 1,
    overwrite: bool = False,
    progress: bool = True,
) -> FinetuneResult:
    """Fine-tune ``model`` (default: the embedded encoder) on ``data`` and save the best epoch to ``output``.

    ``data``/``validation_data``: CSV or JSONL files with ``text`` and ``label`` columns
    (label names, or integer ids), or lists of :class:`LabelledText`.
    """
    import tf_keras as keras

    from .checkpoint import default_encoder_dir
    from .pipeline import TextClassificationPipeline

    output = Path(output)
    _check_output(output, overwrite)
    train = read_labelled(data) if isinstance(data, (str, os.PathLike)) else list(data)
    if validation_data is not None:
        validation = read_labelled(validation_data) if isinstance(validation_data, (str, os.PathLike)) else list(validation_data)
    else:
        train, validation = split_validation(train, validation_split, seed)
    labels = label_names(train, validation)
    keras.utils.set_random_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.UntrainedHeadWarning)  # a new head is the point here
        checkpoint = load_checkpoint(model if model is not None else default_encoder_dir(), id2label=labels)
    pipe = TextClassificationPipeline(checkpoint, max_length=min(max_length, _limit(checkpoint)))
    datasets = [
        make_dataset(examples, pipe.tokenizer, labels, max_length=pipe.max_length, batch_size=batch_size,
                     shuffle=shuffle, seed=seed, input_names=pipe.input_names)
        for examples, shuffle in ((train, True), (validation, False))
    ]
    tf_model = pipe.model
    tf_model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = tf_model.fit(
        datasets[0], validation_data=datasets[1], epochs=epochs, verbose=0,
        callbacks=[stopper, EpochProgress(epochs, progress)],
    )
    epochs_run = [
        {"epoch": index + 1, **{key: float(values[index]) for key, values in history.history.items()}}
        for index in range(len(history.history["loss"]))
    ]
    result = FinetuneResult(
        output=str(output), labels=labels, best_epoch=stopper.best_epoch + 1, history=epochs_run,
        train_size=len(train), validation_size=len(validation), source=checkpoint.source,
        settings=dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                      max_length=pipe.max_length, seed=seed, patience=patience),
        pipeline=pipe,
    )
    save_checkpoint(pipe, output, result, overwrite=overwrite)
    return result


def evaluate(pipe, examples: Sequence[LabelledText], *, batch_size: int = 32) -> dict:
    """Accuracy of ``pipe`` on labelled examples (labels compared as names, or ids as ``LABEL_i``).

    Example:
        >>> evaluate(load_pipeline(), sentiment_set("heldout"))["accuracy"]
    """
    predicted = pipe([example.text for example in examples], batch_size=batch_size)
    expected = [pipe.labels[example.label] if isinstance(example.label, int) else str(example.label)
                for example in examples]
    correct = sum(guess["label"] == truth for guess, truth in zip(predicted, expected))
    return {"accuracy": correct / len(examples), "correct": correct, "total": len(examples)}


def _limit(checkpoint) -> int:
    from .checkpoint import default_max_length

    return default_max_length(checkpoint.tokenizer, checkpoint.config)


def _check_output(output: Path, overwrite: bool) -> None:
    if output.exists() and not overwrite:
        raise errors.InvalidInputError(f"{output} already exists; pass overwrite=True (--overwrite) to replace it.")


def save_checkpoint(pipe, output: Path, result: FinetuneResult, *, overwrite: bool = False) -> None:
    """Write config, tokenizer, weights and metrics.json beside ``output``, then rename into place."""
    with atomic_folder(output, overwrite=overwrite) as staging:
        pipe.model.save_pretrained(staging)
        pipe.tokenizer.save_pretrained(staging)
        (staging / "metrics.json").write_text(json.dumps(result.metrics(), indent=2) + "\n")


def EpochProgress(epochs: int, enabled: bool):
    """A Keras callback: a tqdm bar per epoch on stderr and one log line per epoch."""
    import sys

    import tf_keras as keras
    from tqdm import tqdm

    class Callback(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.bar = tqdm(total=self.params.get("steps"), desc=f"epoch {epoch + 1}/{epochs}", unit="batch",
                            file=sys.stderr, disable=not enabled or None, leave=False)

        def on_train_batch_end(self, batch, logs=None):
            self.bar.update()

        def on_epoch_end(self, epoch, logs=None):
            self.bar.close()
            summary = ", ".join(f"{key} {value:.4f}" for key, value in (logs or {}).items())
            logger.info("epoch %d/%d: %s", epoch + 1, epochs, summary)

    return Callback()
