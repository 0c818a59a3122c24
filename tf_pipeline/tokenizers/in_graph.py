"""Strings → token ids inside the TensorFlow graph (tensorflow_text), held to the HF tokenizer's ids.

Rebuilds a fast tokenizer from its own ``tokenizer.json`` settings with ops that TF Serving
links (core string ops and tensorflow-text 2.20):

- BERT-family WordPiece (BertNormalizer → BertPreTokenizer → WordPiece): core regex ops,
  ``tensorflow_text.regex_split`` and ``FastWordpieceTokenizer``;
- SentencePiece Unigram (ALBERT, XLNet-style ``spiece.model``): the listed normalizer steps,
  then ``tensorflow_text.SentencepieceTokenizer`` on the tokenizer's own model file, with SP
  ids mapped to the HF vocabulary (which also covers fairseq-style offsets).

- byte-level BPE (RoBERTa, GPT-2): added tokens split out with ``tensorflow_text.regex_split``,
  GPT-2's pre-tokenizer regex in RE2 (its one look-ahead emulated with a marker), bytes mapped to
  their symbols and the merges applied by rank in a ``tf.while_loop`` over integer ids.

Other tokenizers have no in-graph form here: :func:`in_graph_tokenizer` returns ``None``
and exports take token ids.

Example:
    >>> text_tokenizer = in_graph_tokenizer(pipe.tokenizer, max_length=128)  # doctest: +SKIP
    >>> text_tokenizer(tf.constant(["I hate this so much!"]))["input_ids"]  # doctest: +SKIP
"""

from __future__ import annotations

from tf_pipeline.tokenizers.byte_pair import BytePairGraphTokenizer, byte_pair_settings
from tf_pipeline.tokenizers.in_graph_base import InGraphTokenizer
from tf_pipeline.tokenizers.sentencepiece import SentencePieceGraphTokenizer, sentencepiece_settings
from tf_pipeline.tokenizers.wordpiece import WordPieceGraphTokenizer, wordpiece_settings


def in_graph_tokenizer(tokenizer, max_length: int) -> InGraphTokenizer | None:
    """The in-graph equivalent of an HF fast tokenizer, or ``None`` if there is none."""
    wordpiece = wordpiece_settings(tokenizer)
    if wordpiece is not None:
        return WordPieceGraphTokenizer(wordpiece, max_length)
    sentencepiece = sentencepiece_settings(tokenizer)
    if sentencepiece is not None:
        return SentencePieceGraphTokenizer(sentencepiece, max_length)
    byte_pair = byte_pair_settings(tokenizer)
    if byte_pair is not None:
        return BytePairGraphTokenizer(byte_pair, max_length)
    return None
