"""Fine-tune a sequence classifier with Keras ``compile``/``fit`` on a labelled CSV or JSONL file of
texts or text pairs (``text``, ``text_pair``, ``label``: NLI, paraphrase, query-passage relevance).

The data goes through tf.data (tokenized once, shuffled, batched with texts of similar length,
padded per batch). A :class:`Recipe` holds the settings: AdamW with warm-up and linear decay,
optional label smoothing, an optional contrastive stage before the classifier is trained
(same-label sentence pairs pulled together, as SetFit does), a moving average of the
weights (checkpoint averaging without checkpoints), or early stopping on validation loss. The output folder is a standard HF checkpoint
that ``load_pipeline`` loads (config with labels, tokenizer, ``tf_model.h5``) plus
``metrics.json``. It is written atomically: built beside the target, then renamed.

Example:
    >>> result = finetune("reviews.csv", "saved_models/reviews", epochs=3)  # doctest: +SKIP
    >>> load_pipeline("saved_models/reviews")("not bad at all")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Sequence

from tf_pipeline import errors
from tf_pipeline.atomic import atomic_folder
from tf_pipeline.checkpoints.loading import load_checkpoint
from tf_pipeline.training.data import LabelledText, check_pairs, read_labelled
from tf_pipeline.tokenizers.hf import pad_id
from tf_pipeline.training.recipe import Recipe
from tf_pipeline.training.optimizer import make_optimizer
from tf_pipeline.training.top_layers import check_top_layers, fit_top_layers, lower_states

logger = logging.getLogger(__name__)
LENGTH_BOUNDARIES = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384)
"""Training batches group texts of these lengths (tokens): little padding, few distinct shapes."""


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


def tokenize(tokenizer, examples: Sequence[LabelledText], max_length: int) -> dict:
    """The examples' token ids (lists, unpadded): texts, or text pairs as ``tokenizer(text, text_pair)``
    (HF's ``longest_first`` truncation)."""
    pairs = [example.text_pair for example in examples] if check_pairs(examples) else None
    return tokenizer([example.text for example in examples], pairs, truncation=True, max_length=max_length)


def make_dataset(examples, tokenizer, names: Sequence[str], *, max_length: int, batch_size: int,
                 shuffle: bool, seed: int, input_names: Sequence[str]):
    """tf.data of (token ids, one-hot labels), tokenized once and padded per batch.

    Training data (``shuffle=True``) is reshuffled every epoch and batched with texts of similar
    length (less padding, faster steps); validation data keeps its order.
    """
    import tensorflow as tf

    encoded = tokenize(tokenizer, examples, max_length)
    labels = tf.one_hot([label_id(example.label, names) for example in examples], len(names))
    features = {name: tf.ragged.constant(encoded[name], dtype=tf.int32) for name in input_names}
    dataset = tf.data.Dataset.from_tensor_slices((features, labels))
    pad_value = pad_id(tokenizer)
    if not shuffle:
        def dense(features, labels):
            return {name: value.to_tensor(pad_value if name == "input_ids" else 0) for name, value in features.items()}, labels

        return dataset.ragged_batch(batch_size).map(dense).prefetch(tf.data.AUTOTUNE)
    boundaries = [bound for bound in LENGTH_BOUNDARIES if bound < max_length]
    return (
        dataset.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
        .map(lambda features, labels: ({name: tf.reshape(ids, [-1]) for name, ids in features.items()}, labels))
        .bucket_by_sequence_length(
            lambda features, _: tf.shape(features["input_ids"])[0],
            bucket_boundaries=[bound + 1 for bound in boundaries],
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padding_values=({name: pad_value if name == "input_ids" else 0 for name in input_names}, 0.0),
        )
        .shuffle(64, seed=seed, reshuffle_each_iteration=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def finetune(
    data: str | os.PathLike | Sequence[LabelledText],
    output: str | os.PathLike,
    *,
    model: str | os.PathLike | None = None,
    recipe: Recipe | None = None,
    validation_split: float = 0.1,
    validation_data: str | os.PathLike | Sequence[LabelledText] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    text_column: str = "text",
    label_column: str = "label",
    text_pair_column: str | None = None,
    **settings,
) -> FinetuneResult:
    """Fine-tune ``model`` (default: the embedded encoder) on ``data`` and save it to ``output``.

    ``data``/``validation_data``: CSV, TSV or JSONL files with ``text_column`` and ``label_column``
    columns (label names, or integer ids) and, for text pairs, ``text_pair_column`` (a JSONL
    ``"text_pair"`` field is read without it), or lists of :class:`LabelledText`. ``recipe`` (default:
    :class:`Recipe`) holds the training settings; keyword ``settings`` override single fields,
    e.g. ``epochs=2``.

    Example:
        >>> finetune("reviews.csv", "saved_models/reviews", learning_rate=3e-5)   # doctest: +SKIP
    """
    import tf_keras as keras

    from tf_pipeline.checkpoints.locations import default_encoder_dir
    from tf_pipeline.runners.graph import TextClassificationPipeline

    recipe = _with_settings(recipe or Recipe(), settings)
    output = Path(output)
    _check_output(output, overwrite)
    columns = {"text_column": text_column, "label_column": label_column, "text_pair_column": text_pair_column}
    train = read_labelled(data, **columns) if isinstance(data, (str, os.PathLike)) else list(data)
    if validation_data is not None:
        validation = (read_labelled(validation_data, **columns) if isinstance(validation_data, (str, os.PathLike))
                      else list(validation_data))
    else:
        train, validation = split_validation(train, validation_split, recipe.seed)
    labels = label_names(train, validation)
    check_pairs(train + validation)
    keras.utils.set_random_seed(recipe.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.UntrainedHeadWarning)  # a new head is the point here
        checkpoint = load_checkpoint(model if model is not None else default_encoder_dir(), task="text-classification",
                                     id2label=labels)
    pipe = TextClassificationPipeline(checkpoint, max_length=min(recipe.max_length, _limit(checkpoint)))
    if recipe.top_layers:
        history = _fit_over_cached_states(pipe, train, validation, labels, recipe, progress)
        best_epoch = len(history)
    else:
        train_set, validation_set = (
            make_dataset(examples, pipe.tokenizer, labels, max_length=pipe.max_length, batch_size=recipe.batch_size,
                         shuffle=shuffle, seed=recipe.seed, input_names=pipe.input_names)
            for examples, shuffle in ((train, True), (validation, False))
        )
        steps = sum(1 for _ in train_set)
        freeze(pipe.model, embeddings=recipe.freeze_embeddings, layers=recipe.frozen_layers)
        if recipe.contrastive_epochs:
            contrastive_tune(pipe.model, train_set, recipe, steps, progress)
        history, best_epoch = _fit(pipe.model, train_set, validation_set, recipe, steps, progress)
    result = FinetuneResult(
        output=str(output), labels=labels, best_epoch=best_epoch, history=history,
        train_size=len(train), validation_size=len(validation), source=checkpoint.source,
        settings={**asdict(recipe), "max_length": pipe.max_length}, pipeline=pipe,
    )
    save_checkpoint(pipe, output, result, overwrite=overwrite)
    return result


def _fit_over_cached_states(pipe, train, validation, names: Sequence[str], recipe: Recipe, progress: bool):
    """``Recipe.top_layers``: the lower layers run once over both splits, then the top layers and head train."""
    check_top_layers(pipe.model, recipe.top_layers)
    depth = pipe.config.num_hidden_layers - recipe.top_layers
    batches = []
    for examples, what in ((train, "train"), (validation, "validation")):
        encoded = tokenize(pipe.tokenizer, examples, pipe.max_length)
        labels = [label_id(example.label, names) for example in examples]
        batches.append(lower_states(pipe.model, encoded, labels, [depth], recipe.batch_size, progress, what)[depth])
    return fit_top_layers(pipe.model, *batches, recipe=recipe, progress=progress)


def freeze(model, *, embeddings: bool, layers: int) -> None:
    """Keep the token embeddings and the lowest ``layers`` encoder layers as they are during training.

    Example:
        >>> freeze(pipe.model, embeddings=True, layers=2)    # BERT: embeddings + layer 0 and 1 frozen  # doctest: +SKIP
    """
    body = getattr(model, model.base_model_prefix)
    body.embeddings.trainable = not embeddings
    stack = getattr(getattr(body, "encoder", None) or getattr(body, "transformer", None), "layer", None)
    if layers and (not isinstance(stack, list) or layers >= len(stack)):
        count = len(stack) if isinstance(stack, list) else "no separate"
        raise errors.InvalidInputError(
            f"frozen_layers={layers}, but this {model.config.model_type} model has {count} layers to freeze "
            "(at least one must stay trainable)."
        )
    for index, layer in enumerate(stack or []):
        layer.trainable = index >= layers


def _with_settings(recipe: Recipe, settings: dict) -> Recipe:
    unknown = sorted(set(settings) - {item.name for item in fields(Recipe)})
    if unknown:
        raise errors.InvalidInputError(f"Unknown fine-tuning setting(s): {', '.join(unknown)}.")
    return replace(recipe, **settings).check()


def _fit(model, train_set, validation_set, recipe: Recipe, steps: int, progress: bool):
    """Keras ``fit`` of the whole classifier; returns (history per epoch, the epoch whose weights were kept)."""
    import tf_keras as keras

    model.compile(
        optimizer=make_optimizer(recipe, steps * recipe.epochs),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=recipe.label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    callbacks = [EpochProgress(recipe.epochs, progress, steps)]
    if recipe.patience is not None:
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=recipe.patience, restore_best_weights=True)
        callbacks.append(stopper)
    every_epoch = recipe.patience is not None  # early stopping needs each epoch's validation loss
    fitted = model.fit(train_set, validation_data=validation_set, epochs=recipe.epochs, verbose=0, callbacks=callbacks,
                       validation_freq=1 if every_epoch else recipe.epochs)
    history = [{"epoch": index + 1} for index in range(len(fitted.history["loss"]))]
    for key, values in fitted.history.items():  # validation keys: the validated epochs only (the last ones)
        for epoch, value in zip(history[len(history) - len(values):], values):
            epoch[key] = float(value)
    best_epoch = stopper.best_epoch + 1 if recipe.patience is not None else len(history)
    return history, best_epoch


def _limit(checkpoint) -> int:
    from tf_pipeline.checkpoints.loading import default_max_length

    return default_max_length(checkpoint.tokenizer, checkpoint.config)


def _check_output(output: Path, overwrite: bool) -> None:
    if output.exists() and not overwrite:
        raise errors.InvalidInputError(f"{output} already exists; pass {errors.option('overwrite')} to replace it.")


def save_checkpoint(pipe, output: Path, result: FinetuneResult, *, overwrite: bool = False) -> None:
    """Write config, tokenizer, weights and metrics.json beside ``output``, then rename into place."""
    with atomic_folder(output, overwrite=overwrite) as staging:
        pipe.model.save_pretrained(staging)
        pipe.tokenizer.save_pretrained(staging)
        (staging / "metrics.json").write_text(json.dumps(result.metrics(), indent=2) + "\n")


def EpochProgress(epochs: int, enabled: bool, steps: int | None = None):
    """A Keras callback: a tqdm bar per epoch on stderr and one log line per epoch."""
    import sys

    import tf_keras as keras
    from tqdm import tqdm

    class Callback(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.bar = tqdm(total=steps or self.params.get("steps"), desc=f"epoch {epoch + 1}/{epochs}", unit="batch",
                            file=sys.stderr, disable=not enabled or None, leave=False)

        def on_train_batch_end(self, batch, logs=None):
            self.bar.update()

        def on_epoch_end(self, epoch, logs=None):
            self.bar.close()
            summary = ", ".join(f"{key} {value:.4f}" for key, value in (logs or {}).items())
            logger.info("epoch %d/%d: %s", epoch + 1, epochs, summary)

    return Callback()


def contrastive_tune(model, dataset, recipe: Recipe, steps: int, progress: bool = True) -> None:
    """Stage 1 of the SetFit recipe, on the encoder inside ``model``: within each batch, the cosine
    similarity of two texts' mean-pooled embeddings is pulled towards 1 for the same label and 0
    for different labels (every pair of the batch counts). The classifier is trained afterwards.
    """
    import sys

    import tensorflow as tf
    from tqdm import tqdm

    encoder = getattr(model, model.base_model_prefix)
    optimizer = make_optimizer(replace(recipe, weight_average=0.0), steps * recipe.contrastive_epochs)

    @tf.function(reduce_retracing=True)
    def train_step(features, labels):
        with tf.GradientTape() as tape:
            hidden = encoder(**features, training=True)[0]
            mask = tf.cast(features["attention_mask"], hidden.dtype)[..., None]
            embeddings = tf.math.l2_normalize(tf.reduce_sum(hidden * mask, 1) / tf.reduce_sum(mask, 1), axis=-1)
            similarity = tf.matmul(embeddings, embeddings, transpose_b=True)
            target = tf.matmul(labels, labels, transpose_b=True)
            off_diagonal = 1.0 - tf.eye(tf.shape(labels)[0])
            loss = tf.reduce_sum(off_diagonal * tf.square(similarity - target)) / tf.maximum(tf.reduce_sum(off_diagonal), 1.0)
        gradients = tape.gradient(loss, encoder.trainable_variables)  # the pooler gets None: unused here
        optimizer.apply_gradients((g, v) for g, v in zip(gradients, encoder.trainable_variables) if g is not None)
        return loss

    for epoch in range(recipe.contrastive_epochs):
        bar = tqdm(dataset, total=steps, desc=f"contrastive {epoch + 1}/{recipe.contrastive_epochs}", unit="batch",
                   file=sys.stderr, disable=not progress or None, leave=False)
        losses = [float(train_step(features, labels)) for features, labels in bar]
        logger.info("contrastive epoch %d/%d: loss %.4f", epoch + 1, recipe.contrastive_epochs, sum(losses) / len(losses))
