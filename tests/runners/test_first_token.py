"""The last layer for the first token only: the same logits, a last hidden state of length 1, restored after."""

import numpy as np
import pytest
import tensorflow as tf
import transformers

from tf_pipeline.runners.first_token import first_token_only, supports_first_token
from tf_pipeline.runners.forward import compile_forward
from tf_pipeline.tasks.text_classification import TextClassification

SMALL = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
             max_position_embeddings=64, num_labels=3)
CLASSIFIERS = {
    "bert": (transformers.BertConfig, transformers.TFBertForSequenceClassification),
    "roberta": (transformers.RobertaConfig, transformers.TFRobertaForSequenceClassification),
    "xlm-roberta": (transformers.XLMRobertaConfig, transformers.TFXLMRobertaForSequenceClassification),
    "camembert": (transformers.CamembertConfig, transformers.TFCamembertForSequenceClassification),
    "electra": (transformers.ElectraConfig, transformers.TFElectraForSequenceClassification),
    "distilbert": (transformers.DistilBertConfig, transformers.TFDistilBertForSequenceClassification),
    "mpnet": (transformers.MPNetConfig, transformers.TFMPNetForSequenceClassification),
}


def build(architecture: str):
    config_class, model_class = CLASSIFIERS[architecture]
    settings = dict(SMALL)
    if architecture == "distilbert":
        settings.update(dim=32, n_layers=2, n_heads=4, hidden_dim=48)
    if architecture == "electra":
        settings.update(embedding_size=16)
    tf.keras.utils.set_random_seed(0)
    return model_class(config_class(**settings))


def padded_batch(lengths=(9, 3, 6, 1)) -> dict[str, tf.Tensor]:
    """Ids of different lengths, padded on the right, as the tokenizer gives them."""
    width = max(lengths)
    ids = np.random.default_rng(0).integers(5, 99, size=(len(lengths), width)).astype("int32")
    mask = (np.arange(width)[None] < np.array(lengths)[:, None]).astype("int32")
    return {"input_ids": tf.constant(np.where(mask > 0, ids, 1)), "attention_mask": tf.constant(mask)}


@pytest.mark.parametrize("architecture", list(CLASSIFIERS))
def test_the_last_layer_computes_the_first_token_only_with_the_same_logits(architecture):
    model = build(architecture)
    batch = padded_batch()
    full = model(**batch, output_hidden_states=True, training=False)
    assert supports_first_token(model)
    with first_token_only(model):
        pruned = model(**batch, output_hidden_states=True, training=False)
        assert pruned.hidden_states[-1].shape[1] == 1  # the swap is in: one position computed
        np.testing.assert_allclose(pruned.hidden_states[-1][:, 0], full.hidden_states[-1][:, 0], atol=1e-5)
    np.testing.assert_allclose(pruned.logits, full.logits, atol=1e-5)
    after = model(**batch, output_hidden_states=True, training=False)
    assert after.hidden_states[-1].shape == full.hidden_states[-1].shape  # restored on exit


def test_the_traced_forward_has_the_logits_of_the_whole_model():
    model = build("bert")
    batch = padded_batch((17, 2, 5, 11, 1))
    task = TextClassification(labels=tuple(model.config.id2label.values()), function_to_apply="softmax")
    forward = compile_forward(model, task, ["input_ids", "attention_mask"])
    np.testing.assert_allclose(forward(batch)["logits"], model(**batch, training=False).logits, atol=1e-5)
    assert model(**batch, output_hidden_states=True).hidden_states[-1].shape[1] == 17  # the trace left it as it was


def test_other_models_and_errors_inside_the_block_leave_the_model_as_it_was():
    albert = transformers.TFAlbertForSequenceClassification(transformers.AlbertConfig(**SMALL, embedding_size=16))
    assert not supports_first_token(albert)  # its layers are shared: not swapped
    batch = padded_batch()
    with first_token_only(albert):
        assert albert(**batch, output_hidden_states=True).hidden_states[-1].shape[1] == 9
    model = build("bert")
    model.config.output_attentions = True  # every row's attention weights are asked for: not swapped
    assert not supports_first_token(model)
    with first_token_only(model):
        assert len(model(**batch).attentions) == 2
    model.config.output_attentions = False
    with pytest.raises(RuntimeError), first_token_only(model):
        raise RuntimeError("stop")
    assert model(**batch, output_hidden_states=True).hidden_states[-1].shape[1] == 9


def test_the_swap_works_after_keras_saving_left_a_call_on_the_layer(tmp_path):
    """tf.saved_model.save of a module holding the model leaves a bound ``call`` on every Keras layer."""
    model = build("bert")
    batch = padded_batch()
    holder = tf.Module()
    holder.model = model
    tf.saved_model.save(holder, str(tmp_path / "saved"))
    last = model.bert.encoder.layer[-1]
    left = vars(last).get("call")
    with first_token_only(model):
        assert model(**batch, output_hidden_states=True).hidden_states[-1].shape[1] == 1
    assert vars(last).get("call") is left
    assert model(**batch, output_hidden_states=True).hidden_states[-1].shape[1] == 9
