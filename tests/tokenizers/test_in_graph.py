"""In-graph tokenizers (WordPiece, SentencePiece, byte-level BPE) give the HF tokenizer's ids."""

import logging
from pathlib import Path

import pytest
import tensorflow as tf

from tf_pipeline import load_pipeline
from tf_pipeline.export.saved_model.export import export_saved_model
from tf_pipeline.tokenizers.byte_pair import BytePairGraphTokenizer
from tf_pipeline.tokenizers.in_graph import in_graph_tokenizer
from tf_pipeline.tokenizers.sentencepiece import SentencePieceGraphTokenizer
from tokenizer_corpus import corpus


def _agreement(hf_tokenizer, lines, max_length=512):
    """Share of ``lines`` the in-graph tokenizer (traced, as exports run it) gives HF's ids for."""
    graph_tokenizer = in_graph_tokenizer(hf_tokenizer, max_length)
    tokenize = tf.function(graph_tokenizer.__call__, input_signature=[tf.TensorSpec([None], tf.string)])
    mismatches = []
    for start in range(0, len(lines), 128):
        chunk = lines[start:start + 128]
        ours = {name: tensor.numpy() for name, tensor in tokenize(tf.constant(chunk)).items()}
        theirs = hf_tokenizer(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="np")
        for row, text in enumerate(chunk):
            length = int(theirs["attention_mask"][row].sum())
            if ours["input_ids"][row][:length].tolist() != theirs["input_ids"][row][:length].tolist() \
                    or int(ours["attention_mask"][row].sum()) != length:
                mismatches.append(text)
    return 1 - len(mismatches) / len(lines), mismatches


@pytest.mark.parametrize("variant", ["uncased", "cased", "lowercase-keep-accents"])
def test_in_graph_tokenizer_matches_hf_on_a_varied_corpus(default_pipe, variant):
    from transformers import BertTokenizerFast

    vocab = Path(default_pipe.source) / "vocab.txt"
    tokenizer = {
        "uncased": default_pipe.tokenizer,
        "cased": BertTokenizerFast(vocab_file=str(vocab), do_lower_case=False),
        "lowercase-keep-accents": BertTokenizerFast(vocab_file=str(vocab), strip_accents=False),
    }[variant]
    lines = corpus(2000)
    rate, mismatches = _agreement(tokenizer, lines, max_length=128 if variant != "uncased" else 512)
    logging.getLogger(__name__).info("in-graph tokenizer agreement (%s): %.4f on %d lines", variant, rate, len(lines))
    assert len(lines) >= 2000
    assert mismatches == [], f"agreement {rate:.4f}; first mismatches: {mismatches[:3]}"


@pytest.mark.slow
def test_byte_level_bpe_in_graph_tokenizer_matches_hf(tiny_checkpoint, tmp_path):
    from tokenizers.implementations import ByteLevelBPETokenizer
    from transformers import RobertaTokenizerFast

    from tf_pipeline.training.data import sentiment_set

    _, _, tiny = tiny_checkpoint("roberta")
    assert isinstance(in_graph_tokenizer(tiny, 64), BytePairGraphTokenizer)
    lines = corpus(2000)
    tokenizers = {"tiny": tiny}
    folder = tmp_path
    trainer = ByteLevelBPETokenizer()  # a vocabulary large enough for long merge chains
    trainer.train_from_iterator([row.text for row in sentiment_set("train")], vocab_size=3000,
                                special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    trainer.save_model(str(folder))
    for prefix in (False, True):
        tokenizers[f"3000, add_prefix_space={prefix}"] = RobertaTokenizerFast(
            vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"),
            add_prefix_space=prefix, model_max_length=512)
    for name, tokenizer in tokenizers.items():
        rate, mismatches = _agreement(tokenizer, lines, max_length=tokenizer.model_max_length)
        logging.getLogger(__name__).info("byte-level BPE in-graph agreement (%s): %.4f", name, rate)
        assert mismatches == [], f"{name}: agreement {rate:.4f}; first mismatches: {mismatches[:3]}"


def _sentencepiece_limitation(text: str) -> bool:
    """The documented SentencePiece limitations (docs/tokenizers.md): typed special tokens, leading/trailing or
    whitespace-only text, and control/format characters."""
    import re
    import unicodedata

    return bool(
        re.search(r"\[(CLS|SEP|MASK|UNK|PAD)\]", text)
        or text != text.strip() or not text.strip()
        or any(unicodedata.category(char) in {"Cc", "Cf"} and char not in "\t\n\r" for char in text)
    )


@pytest.mark.slow
def test_sentencepiece_in_graph_tokenizer(tiny_checkpoint, tmp_path):
    folder, _, tokenizer = tiny_checkpoint("albert")
    assert isinstance(in_graph_tokenizer(tokenizer, 64), SentencePieceGraphTokenizer)
    lines = corpus(2000)
    rate, mismatches = _agreement(tokenizer, lines, max_length=64)
    logging.getLogger(__name__).info("SentencePiece in-graph agreement: %.4f on %d lines", rate, len(lines))
    natural = lines[:752]  # the sentiment set: ordinary sentences
    assert not set(mismatches) & set(natural)
    assert [text for text in mismatches if not _sentencepiece_limitation(text)] == []
    assert rate > 0.85
    pipe = load_pipeline(folder)
    export = export_saved_model(pipe, tmp_path / "albert")
    out = tf.saved_model.load(str(export)).signatures["serving_default"](text=tf.constant(natural[:40]))
    assert [x.decode() for x in out["label"].numpy()] == [r["label"] for r in pipe(natural[:40])]


def test_mpnet_in_graph_tokenizer_matches_hf():
    """all-mpnet-base-v2's own tokenizer: uncased WordPiece, ``<s> … </s>``, pad id 1, typed specials."""
    from transformers import AutoTokenizer

    from tf_pipeline.checkpoints.mpnet_encoder import mpnet_encoder_dir
    from tf_pipeline.tokenizers.wordpiece import WordPieceGraphTokenizer

    tokenizer = AutoTokenizer.from_pretrained(mpnet_encoder_dir())
    graph_tokenizer = in_graph_tokenizer(tokenizer, 384)
    assert isinstance(graph_tokenizer, WordPieceGraphTokenizer) and graph_tokenizer.settings.pad_id == 1
    lines = corpus(2000) + ["typed <s> and </s> and <mask> and <pad> and <unk> and [UNK] tokens", "<mask>x"]
    rate, mismatches = _agreement(tokenizer, lines, max_length=384)
    logging.getLogger(__name__).info("MPNet in-graph tokenizer agreement: %.4f on %d lines", rate, len(lines))
    assert mismatches == [], f"agreement {rate:.4f}; first mismatches: {mismatches[:3]}"
