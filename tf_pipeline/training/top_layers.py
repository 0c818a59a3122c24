"""Train only a classifier's top encoder layers and its head, over the lower layers' outputs computed once.

A full fine-tune of a 12-layer encoder costs a forward and a backward pass through every layer,
every epoch. When the embeddings and the lower layers stay as pretrained, their output for each
training text never changes: :func:`fit_top_layers` computes it once (one forward pass, no
dropout below the trained layers), then each epoch runs only the top ``Recipe.top_layers``
layers and the head, the last of them for the first token alone (the one position the head
reads, :mod:`tf_pipeline.runners.first_token`). The model is an ordinary HF classifier
throughout, so the result saves and loads like any other checkpoint.

Example:
    >>> finetune(sentiment_set("train"), "out", model=encoder, top_layers=2, epochs=4)  # doctest: +SKIP
    >>> batches = lower_states(model, tokenizer(texts), labels, depths=[10], batch_size=32)  # doctest: +SKIP
    >>> fit_top_layers(model, batches[10], validation_batches[10], Recipe(top_layers=2))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import random
import sys
from typing import Callable, Sequence

from tf_pipeline import errors
from tf_pipeline.runners.first_token import first_token_only
from tf_pipeline.training.optimizer import make_optimizer
from tf_pipeline.training.recipe import Recipe

logger = logging.getLogger(__name__)


def _bert_layers(encoder, layers, hidden, mask, training):
    """BERT-style layers (BERT, RoBERTa, ELECTRA, …): the additive mask, no position bias."""
    for layer in layers:
        hidden = layer(hidden, mask, None, None, None, None, False, training=training)[0]
    return hidden


def _mpnet_layers(encoder, layers, hidden, mask, training):
    """MPNet layers: the additive mask and the relative-position bias the encoder shares across layers."""
    bias = encoder.compute_position_bias(hidden)
    for layer in layers:
        hidden = layer(hidden, mask, None, False, position_bias=bias, training=training)[0]
    return hidden


# model_type → how its encoder layers are called on hidden states
_LAYER_CALLS: dict[str, Callable] = {"bert": _bert_layers, "roberta": _bert_layers, "electra": _bert_layers,
                                     "xlm-roberta": _bert_layers, "camembert": _bert_layers, "mpnet": _mpnet_layers}


def check_top_layers(model, count: int) -> None:
    """An error unless ``model`` can train its top ``count`` layers over cached states."""
    model_type = model.config.model_type
    stack = getattr(getattr(getattr(model, model.base_model_prefix), "encoder", None), "layer", None)
    if model_type not in _LAYER_CALLS or not isinstance(stack, list):
        raise errors.InvalidInputError(
            f"top_layers is not supported for {model_type} models (supported: {', '.join(sorted(_LAYER_CALLS))}); "
            "use frozen_layers instead.")
    if not 1 <= count <= len(stack):
        raise errors.InvalidInputError(f"top_layers={count}, but this {model_type} model has {len(stack)} layers.")


def fit_top_layers(model, train: list[tuple], validation: list[tuple], recipe: Recipe,
                   progress: bool = True) -> list[dict[str, float]]:
    """Train the top ``recipe.top_layers`` layers and the head of ``model`` in place.

    Args:
        model: an HF TF sequence classifier of a supported architecture.
        train: the training batches, from :func:`lower_states` at depth ``layers - recipe.top_layers``.
        validation: the validation batches, the same way (scored after every epoch).
        recipe: the settings (``top_layers``, ``epochs``, ``learning_rate``, …; the batches are already made).
        progress: show a bar per epoch.

    Returns:
        One dict per epoch: ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``.

    Raises:
        InvalidInputError: an architecture or a layer count this cannot train.
    """
    import tensorflow as tf
    import tf_keras as keras

    check_top_layers(model, recipe.top_layers)
    body = getattr(model, model.base_model_prefix)
    stack = body.encoder.layer
    top = stack[len(stack) - recipe.top_layers:]
    call_layers = _LAYER_CALLS[model.config.model_type]
    below = {id(weight) for weight in body.embeddings.weights + body.encoder.weights}
    trainable = [weight for layer in top for weight in layer.trainable_weights] + [
        weight for weight in model.trainable_weights if id(weight) not in below]  # the head (and BERT's pooler)
    optimizer = make_optimizer(recipe, len(train) * recipe.epochs)
    smoothing = recipe.label_smoothing
    classes = model.config.num_labels

    def logits_of(hidden, mask, training):
        additive = (1.0 - tf.cast(mask, hidden.dtype))[:, None, None, :] * -10000.0
        with first_token_only(model):  # the last layer computes the one position the head reads
            return _head(model, call_layers(body.encoder, top, hidden, additive, training), training)

    def loss_of(logits, labels):
        return keras.losses.categorical_crossentropy(tf.one_hot(labels, classes), logits, from_logits=True,
                                                     label_smoothing=smoothing)

    @tf.function(reduce_retracing=True)
    def train_step(hidden, mask, labels):
        with tf.GradientTape() as tape:
            logits = logits_of(hidden, mask, True)
            loss = tf.reduce_mean(loss_of(logits, labels))
        gradients = tape.gradient(loss, trainable)  # None for weights the head does not read (MPNet's pooler)
        optimizer.apply_gradients((g, v) for g, v in zip(gradients, trainable) if g is not None)
        return loss, _correct(logits, labels)

    @tf.function(reduce_retracing=True)
    def evaluate_step(hidden, mask, labels):
        logits = logits_of(hidden, mask, False)
        return tf.reduce_sum(loss_of(logits, labels)), _correct(logits, labels)

    order = random.Random(recipe.seed)
    history = []
    for epoch in range(recipe.epochs):
        batches = list(train)
        order.shuffle(batches)
        loss, correct, seen = 0.0, 0, 0
        for hidden, mask, labels in _bar(batches, progress, f"epoch {epoch + 1}/{recipe.epochs}"):
            batch_loss, batch_correct = train_step(hidden, mask, labels)
            loss += float(batch_loss) * len(labels)
            correct, seen = correct + int(batch_correct), seen + len(labels)
        val_loss, val_correct, val_seen = 0.0, 0, 0
        for hidden, mask, labels in validation:
            batch_loss, batch_correct = evaluate_step(hidden, mask, labels)
            val_loss, val_correct, val_seen = val_loss + float(batch_loss), val_correct + int(batch_correct), val_seen + len(labels)
        history.append({"epoch": epoch + 1, "loss": loss / seen, "accuracy": correct / seen,
                        "val_loss": val_loss / max(val_seen, 1), "val_accuracy": val_correct / max(val_seen, 1)})
        logger.info("epoch %d/%d: %s", epoch + 1, recipe.epochs,
                    ", ".join(f"{key} {value:.4f}" for key, value in history[-1].items() if key != "epoch"))
    return history


def _head(model, hidden, training: bool):
    """The classifier on the last layer's states: BERT's reads its pooler, the others position 0 themselves."""
    if model.config.model_type == "bert":
        pooled = getattr(model, model.base_model_prefix).pooler(hidden)
        return model.classifier(model.dropout(pooled, training=training))
    return model.classifier(hidden, training=training)


def _correct(logits, labels):
    import tensorflow as tf

    return tf.reduce_sum(tf.cast(tf.argmax(logits, -1, output_type=tf.int32) == tf.cast(labels, tf.int32), tf.int32))


def lower_states(model, encoded: dict, labels: Sequence[int], depths: Sequence[int], batch_size: int,
                 progress: bool = True, what: str = "texts") -> dict[int, list[tuple]]:
    """Batches of texts of similar length through the lower layers, computed once (no dropout).

    Args:
        model: the classifier (its encoder runs, its head does not).
        encoded: the tokenizer's output for the texts (``input_ids`` as lists, and ``token_type_ids``
            where the tokenizer gives them: the segments of text pairs).
        labels: the texts' label ids.
        depths: for each, ``hidden_states[depth]`` is kept: the input of layer ``depth`` (0: the embeddings).
        batch_size: texts per batch.
        progress: show a bar.
        what: the bar's name for the texts.

    Returns:
        depth → batches of (hidden states, attention mask, label ids).
    """
    import numpy as np
    import tensorflow as tf

    body = getattr(model, model.base_model_prefix)
    pad = int(body.config.pad_token_id or 0)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    ids_spec = tf.TensorSpec([None, None], tf.int32)  # one trace for every batch shape
    segments = "token_type_ids" in encoded
    forward = tf.function(lambda ids, mask, types: body(
        input_ids=ids, attention_mask=mask, **({"token_type_ids": types} if segments else {}),
        output_hidden_states=True, training=False).hidden_states, input_signature=[ids_spec] * 3)
    batches: dict[int, list[tuple]] = {depth: [] for depth in depths}
    logger.info("running the lower %d layers once over %d %s texts", max(depths), len(lengths), what)
    stack = body.encoder.layer
    body.encoder.layer = stack[:max(depths)]  # the layers above the deepest kept state never run
    try:
        for start in _bar(range(0, len(order), batch_size), progress, f"lower layers ({what})"):
            rows = order[start:start + batch_size]
            width = max(lengths[row] for row in rows)
            ids = np.full((len(rows), width), pad, dtype=np.int32)
            mask = np.zeros((len(rows), width), dtype=np.int32)
            types = np.zeros((len(rows), width), dtype=np.int32)
            for position, row in enumerate(rows):
                ids[position, :lengths[row]] = encoded["input_ids"][row]
                mask[position, :lengths[row]] = 1
                if segments:
                    types[position, :lengths[row]] = encoded["token_type_ids"][row]
            states = forward(tf.constant(ids), tf.constant(mask), tf.constant(types))
            batch_labels = tf.constant([labels[row] for row in rows], dtype=tf.int32)
            for depth in depths:
                batches[depth].append((states[depth], tf.constant(mask), batch_labels))
    finally:
        body.encoder.layer = stack
    return batches


def _bar(items, enabled: bool, description: str):
    from tqdm import tqdm

    return tqdm(items, desc=description, unit="batch", file=sys.stderr, disable=not enabled or None, leave=False)
