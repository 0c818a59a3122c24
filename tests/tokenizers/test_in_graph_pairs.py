"""Text pairs in the graph: the tokenizer's pair template and HF's ``longest_first`` truncation, token by token."""

import pytest
import tensorflow as tf

from tf_pipeline.tokenizers.in_graph import in_graph_tokenizer
from tf_pipeline.tokenizers.in_graph_base import longest_first
from tokenizer_corpus import corpus

MAX_LENGTHS = (512, 40, 17)  # no truncation, often, nearly always (odd: who gets the spare token)


def pair_corpus(lines: list[str], count: int = 300) -> tuple[list[str], list[str]]:
    """Pairs with every balance of lengths: short–short, long–short, short–long, long–long (equal too)."""
    firsts, seconds = [], []
    for index in range(count):
        a, b = lines[index % len(lines)], lines[(7 * index + 3) % len(lines)]
        kind = index % 5
        if kind == 1:
            a = " ".join(lines[index % len(lines):index % len(lines) + 6])
        elif kind == 2:
            b = " ".join(lines[(index + 11) % len(lines):(index + 11) % len(lines) + 6])
        elif kind == 3:
            a, b = " ".join(lines[index:index + 4]), " ".join(lines[index + 20:index + 25])
        elif kind == 4:
            b = a  # the same length on both sides
        firsts.append(a)
        seconds.append(b)
    return firsts, seconds


def assert_pairs_match(hf_tokenizer, firsts, seconds):
    for max_length in MAX_LENGTHS:
        graph_tokenizer = in_graph_tokenizer(hf_tokenizer, max_length)
        tokenize = tf.function(graph_tokenizer.pairs, input_signature=[tf.TensorSpec([None], tf.string)] * 2)
        for start in range(0, len(firsts), 100):
            a, b = firsts[start:start + 100], seconds[start:start + 100]
            ours = {name: tensor.numpy().tolist() for name, tensor in tokenize(tf.constant(a), tf.constant(b)).items()}
            theirs = hf_tokenizer(a, b, padding=True, truncation=True, max_length=max_length)
            for name in theirs:
                for row, (x, y) in enumerate(zip(ours[name], theirs[name])):
                    assert x == y, f"{name}, max_length {max_length}: {a[row]!r} / {b[row]!r}"


def test_longest_first_is_hf_s_rule():
    """Shorter side first; the rest split, the longer (or, when equal, the second) text taking the odd token."""
    first, second = longest_first(tf.constant([3, 30, 8, 8, 2, 9]), tf.constant([4, 5, 30, 8, 40, 10]), 11)
    assert first.numpy().tolist() == [3, 6, 5, 5, 2, 5]
    assert second.numpy().tolist() == [4, 5, 6, 6, 9, 6]


def test_wordpiece_pairs_match_hf(default_pipe):
    """BERT's ``[CLS] a [SEP] b [SEP]`` with token types 0 then 1 (the small default's tokenizer)."""
    assert_pairs_match(default_pipe.tokenizer, *pair_corpus(corpus(2000)))


def test_mpnet_pairs_match_hf():
    """MPNet's ``<s> a </s></s> b </s>`` (all-mpnet-base-v2's own tokenizer)."""
    from transformers import AutoTokenizer

    from tf_pipeline.checkpoints.mpnet_encoder import mpnet_encoder_dir

    assert_pairs_match(AutoTokenizer.from_pretrained(mpnet_encoder_dir()), *pair_corpus(corpus(752)))


@pytest.mark.parametrize("architecture", ["roberta", "albert"])
def test_byte_level_bpe_and_sentencepiece_pairs_match_hf(tiny_checkpoint, architecture):
    """RoBERTa's byte-level BPE and ALBERT's SentencePiece (natural sentences: the in-graph SentencePiece
    differs from HF on some made-up strings, docs/tokenizers.md)."""
    tokenizer = tiny_checkpoint(architecture)[2]
    assert_pairs_match(tokenizer, *pair_corpus(corpus(752)))
