"""Run a classifier's last encoder layer for the first token only: the one token its head reads.

The sequence-classification heads of BERT, RoBERTa (XLM-R, CamemBERT), ELECTRA, DistilBERT and MPNet read
the last layer's output at position 0 only (the pooler or ``features[:, 0]``). Every other position
of that layer is computed and thrown away. Within :func:`first_token_only`, the last layer computes
position 0 from all positions' keys and values (HF's own attention, called as cross-attention from
the first token to the sequence): the same logits, and about a seventh less work in a 6-layer model
(measured in docs/benchmark.md, "Tuning decisions"). Other models run unchanged.

Example:
    >>> with first_token_only(model):  # doctest: +SKIP
    ...     logits = model(**ids, training=False).logits   # the same logits as without
"""

from __future__ import annotations

import contextlib
import threading
import types
from typing import Callable, Iterator

_LOCK = threading.RLock()  # one swap at a time; a nested block in the same thread is fine


def _bert_layer(self, hidden_states, attention_mask, head_mask, encoder_hidden_states, encoder_attention_mask,
                past_key_value, output_attentions, training=False):
    """``TFBertLayer.call`` (and its copies) for position 0: queries from it, keys and values from all."""
    first = hidden_states[:, :1]
    attended = self.attention(
        input_tensor=first, attention_mask=None, head_mask=head_mask, encoder_hidden_states=hidden_states,
        encoder_attention_mask=attention_mask, past_key_value=None, output_attentions=False, training=training,
    )[0]
    intermediate = self.intermediate(hidden_states=attended)
    return (self.bert_output(hidden_states=intermediate, input_tensor=attended, training=training),)


def _distilbert_block(self, x, attn_mask, head_mask, output_attentions, training=False):
    """``TFTransformerBlock.call`` (DistilBERT) for position 0: queries from it, keys and values from all."""
    first = x[:, :1]
    attended = self.attention(first, x, x, attn_mask, head_mask, False, training=training)[0]
    attended = self.sa_layer_norm(attended + first)
    return (self.output_layer_norm(self.ffn(attended, training=training) + attended),)


def _mpnet_layer(self, hidden_states, attention_mask, head_mask, output_attentions, position_bias=None,
                 training=False):
    """``TFMPNetLayer.call`` for position 0: its query (and its row of the relative-position bias)
    against every position's keys and values."""
    import tensorflow as tf
    from transformers.tf_utils import stable_softmax

    attention = self.attention
    heads = attention.attn
    first = hidden_states[:, :1]
    batch = tf.shape(hidden_states)[0]
    query = heads.transpose_for_scores(heads.q(first), batch)
    keys = heads.transpose_for_scores(heads.k(hidden_states), batch)
    values = heads.transpose_for_scores(heads.v(hidden_states), batch)
    scores = tf.matmul(query, keys, transpose_b=True) / tf.math.sqrt(float(heads.attention_head_size))
    if position_bias is not None:
        scores += position_bias[:, :, :1]
    if attention_mask is not None:
        scores += attention_mask
    probabilities = heads.dropout(stable_softmax(scores, axis=-1), training=training)
    if head_mask is not None:
        probabilities *= head_mask
    context = tf.reshape(tf.transpose(tf.matmul(probabilities, values), [0, 2, 1, 3]), (batch, -1, heads.all_head_size))
    attended = attention.LayerNorm(attention.dropout(heads.o(context), training=training) + first)
    return (self.out(self.intermediate(attended), attended, training=training),)


# model class → (path from the base model to its layer list, the first-token call of those layers)
_FIRST_TOKEN_LAYERS: dict[str, tuple[tuple[str, ...], Callable]] = {
    "TFBertForSequenceClassification": (("encoder", "layer"), _bert_layer),
    "TFRobertaForSequenceClassification": (("encoder", "layer"), _bert_layer),
    "TFXLMRobertaForSequenceClassification": (("encoder", "layer"), _bert_layer),
    "TFCamembertForSequenceClassification": (("encoder", "layer"), _bert_layer),
    "TFElectraForSequenceClassification": (("encoder", "layer"), _bert_layer),
    "TFDistilBertForSequenceClassification": (("transformer", "layer"), _distilbert_block),
    "TFMPNetForSequenceClassification": (("encoder", "layer"), _mpnet_layer),
}
# config flags under which the last layer's every row is read (attention weights, a decoder's cache)
_NEEDS_EVERY_ROW = ("output_attentions", "is_decoder", "add_cross_attention")


def supports_first_token(model) -> bool:
    """Whether :func:`first_token_only` changes how ``model`` runs (its head reads position 0 only)."""
    config = getattr(model, "config", None)
    return (type(model).__name__ in _FIRST_TOKEN_LAYERS and config is not None
            and not any(getattr(config, flag, False) for flag in _NEEDS_EVERY_ROW))


@contextlib.contextmanager
def first_token_only(model) -> Iterator[None]:
    """Within the block, ``model``'s last encoder layer computes position 0 only; restored on exit.

    Only the logits are meant to be read inside: the last hidden state has length 1 there. Use it
    where the model is traced (or called) for its logits; nothing changes for models it does not
    know (:func:`supports_first_token`). The swap is on the layer object, so another thread calling
    the same model while a block is open sees it too.
    """
    if not supports_first_token(model):
        yield
        return
    path, first_token_call = _FIRST_TOKEN_LAYERS[type(model).__name__]
    layers = getattr(model, model.base_model_prefix)
    for name in path:
        layers = getattr(layers, name)
    last = layers[-1]
    with _LOCK:
        before = vars(last).get("call")  # Keras' SavedModel saving leaves the bound original here
        if getattr(before, "__func__", None) is first_token_call:  # an enclosing block swapped it
            yield
            return
        last.call = types.MethodType(first_token_call, last)
        try:
            yield
        finally:
            if before is None:
                del last.call
            else:
                last.call = before
