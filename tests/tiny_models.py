"""Tiny, randomly initialised checkpoints of several architectures, with tokenizers trained here.

Nothing is downloaded: each tokenizer is trained on CORPUS with the ``tokenizers`` or
``sentencepiece`` library, each model is built from a small config with random weights,
and both are saved in the formats real checkpoints use.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CORPUS = [
    "the film was wonderful and the actors were great",
    "i hated every minute of this boring movie",
    "service at the restaurant was slow but the food was good",
    "this phone's battery lasts two days, which is amazing",
    "not bad at all, i would buy it again",
    "hardly worth the money; it broke after a week",
    "the hotel room was clean, quiet and comfortable",
    "our flight was delayed for six hours without any explanation",
    "the new software update fixed all my problems!",
    "customer support never answered my emails",
    "Café déjà vu: naïve résumé of a coöperative façade",
    "東京の天気は晴れです and 北京 is far away",
    "emoji time 😀🎉 great party 👍",
    "numbers 12345 and 3.14159 and 1,000,000 dollars",
    "WHY IS EVERYTHING IN CAPITALS?!?! ... ---",
] * 4

LABELS = {0: "negative", 1: "neutral", 2: "positive"}
ARCHITECTURES = ("bert", "distilbert", "roberta", "albert", "electra", "mpnet")


def train_tokenizer(architecture: str, folder: Path):
    """Train a small tokenizer of the kind ``architecture`` uses and save it in ``folder``."""
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    if architecture in {"bert", "distilbert", "electra"}:
        from tokenizers.implementations import BertWordPieceTokenizer

        trainer = BertWordPieceTokenizer(lowercase=True)
        trainer.train_from_iterator(CORPUS, vocab_size=400, min_frequency=1)
        trainer.save_model(str(folder))
        fast_class = {
            "bert": transformers.BertTokenizerFast,
            "distilbert": transformers.DistilBertTokenizerFast,
            "electra": transformers.ElectraTokenizerFast,
        }[architecture]
        tokenizer = fast_class(vocab_file=str(folder / "vocab.txt"), model_max_length=64)
    elif architecture == "mpnet":  # uncased WordPiece with <s> … </s> around each text and pad id 1
        from tokenizers.implementations import BertWordPieceTokenizer

        trainer = BertWordPieceTokenizer(lowercase=True)
        trainer.train_from_iterator(CORPUS, vocab_size=400, min_frequency=1,
                                    special_tokens=["<s>", "<pad>", "</s>", "<unk>", "[UNK]", "<mask>"])
        trainer.save_model(str(folder))
        tokenizer = transformers.MPNetTokenizerFast(vocab_file=str(folder / "vocab.txt"), model_max_length=64)
    elif architecture == "roberta":
        from tokenizers.implementations import ByteLevelBPETokenizer

        trainer = ByteLevelBPETokenizer()
        trainer.train_from_iterator(
            CORPUS, vocab_size=400, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
        )
        trainer.save_model(str(folder))
        tokenizer = transformers.RobertaTokenizerFast(
            vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"), model_max_length=64
        )
    elif architecture == "albert":
        import sentencepiece

        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(CORPUS),
            model_prefix=str(folder / "spiece"),
            vocab_size=120,
            model_type="unigram",
            pad_id=0, unk_id=1, bos_id=2, eos_id=3,
            pad_piece="<pad>", unk_piece="<unk>", bos_piece="[CLS]", eos_piece="[SEP]",
            user_defined_symbols=["[MASK]"],
            character_coverage=1.0,
            minloglevel=2,
        )
        tokenizer = transformers.AlbertTokenizerFast(vocab_file=str(folder / "spiece.model"), model_max_length=64)
    else:
        raise ValueError(architecture)
    tokenizer.save_pretrained(folder)
    return tokenizer


def tiny_config(architecture: str, vocab_size: int, **overrides):
    """A two-layer config with hidden size 32 and three labels."""
    import transformers

    common = dict(vocab_size=vocab_size, id2label=LABELS, label2id={v: k for k, v in LABELS.items()})
    if architecture == "distilbert":
        config = transformers.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=64, **common)
    else:
        size = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=66)
        if architecture in {"albert", "electra"}:
            size["embedding_size"] = 16
        if architecture in {"roberta", "mpnet"}:
            size.update(pad_token_id=1, bos_token_id=0, eos_token_id=2)
        config_class = {
            "bert": transformers.BertConfig,
            "roberta": transformers.RobertaConfig,
            "albert": transformers.AlbertConfig,
            "electra": transformers.ElectraConfig,
            "mpnet": transformers.MPNetConfig,
        }[architecture]
        config = config_class(**size, **common)
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def build_model(config, *, base: bool = False, seed: int = 0):
    """A randomly initialised TF model (sequence classification, or the bare encoder), built."""
    import tensorflow as tf
    import transformers

    tf.keras.utils.set_random_seed(seed) if hasattr(tf.keras.utils, "set_random_seed") else tf.random.set_seed(seed)
    auto_class = transformers.TFAutoModel if base else transformers.TFAutoModelForSequenceClassification
    model = auto_class.from_config(config)
    model(model.dummy_inputs, training=False)
    return model


def pytorch_state_dict(model) -> dict[str, np.ndarray]:
    """The TF model's weights under PyTorch names and layouts, as transformers' PyTorch models save them."""
    from transformers.modeling_tf_pytorch_utils import apply_transpose, convert_tf_weight_name_to_pt_weight_name

    state = {}
    for weight in model.weights:
        name, transpose = convert_tf_weight_name_to_pt_weight_name(weight.name, tf_weight_shape=weight.shape)
        state[name] = np.ascontiguousarray(apply_transpose(transpose, weight.numpy(), pt_to_tf=False))
    return state


def save_pytorch_safetensors(model, folder: Path, *, shards: int = 1) -> None:
    """Save like a PyTorch checkpoint: ``model.safetensors``, or shards plus ``model.safetensors.index.json``."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(folder)
    state = pytorch_state_dict(model)
    if shards == 1:
        save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
        return
    names = sorted(state)
    weight_map = {}
    for index, part in enumerate(np.array_split(np.array(names), shards)):
        file_name = f"model-{index + 1:05d}-of-{shards:05d}.safetensors"
        save_file({name: state[name] for name in part}, str(folder / file_name), metadata={"format": "pt"})
        weight_map.update({name: file_name for name in part})
    total = int(sum(array.nbytes for array in state.values()))
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))


def make_checkpoint(folder: Path, architecture: str = "bert", *, weights: str = "pt", base: bool = False,
                    shards: int = 1, seed: int = 0, **config_overrides):
    """Train a tokenizer, build a random model and save both in ``folder``; returns (model, tokenizer).

    ``weights``: "pt" (PyTorch-format safetensors), "h5" (tf_model.h5) or "tf-safetensors".
    """
    tokenizer = train_tokenizer(architecture, folder)
    config = tiny_config(architecture, len(tokenizer), **config_overrides)
    model = build_model(config, base=base, seed=seed)
    if weights == "pt":
        save_pytorch_safetensors(model, folder, shards=shards)
    else:
        model.save_pretrained(folder, safe_serialization=weights == "tf-safetensors")
    return model, tokenizer
