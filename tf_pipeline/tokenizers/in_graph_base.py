"""The in-graph tokenizer every family builds on: pieces → truncated, special tokens added, padded ids;
and the text steps the families share.

Example:
    >>> class MyTokenizer(InGraphTokenizer):
    ...     def pieces(self, texts): ...      # [batch, (ids)] without special tokens
"""

from __future__ import annotations

import json

import tensorflow as tf

def tokenizer_spec(tokenizer) -> dict | None:
    """A fast tokenizer's ``tokenizer.json`` as a dict; ``None`` for a slow or left-padding tokenizer."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or getattr(tokenizer, "padding_side", "right") != "right":
        return None
    return json.loads(backend.to_str())


def special_ids(tokenizer, content_id: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The ids the tokenizer puts before and after a text's own ids, e.g. ``((101,), (102,))``."""
    with_specials = tokenizer.build_inputs_with_special_tokens([content_id])
    split = with_specials.index(content_id)
    return tuple(with_specials[:split]), tuple(with_specials[split + 1:])


def valid_utf8(texts: tf.Tensor) -> tf.Tensor:
    """Invalid UTF-8 bytes replaced by U+FFFD, as Python's ``bytes.decode(errors="replace")``."""
    return tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)


def escape(text: str) -> str:
    """``text`` as a literal RE2 pattern."""
    return "".join("\\" + char if char in r"\.^$|?*+()[]{}-" else char for char in text)


def placeholder(index: int) -> str:
    """A word that survives normalisation and splitting unchanged, standing in for added token ``index``."""
    return f"tfpipelineaddedtoken{index}x"


def protect(texts: tf.Tensor, tokens: tuple[str, ...], offset: int) -> tf.Tensor:
    # Longest first, as HF's added-token matcher prefers the longest match.
    for index, token in sorted(enumerate(tokens, start=offset), key=lambda item: -len(item[1])):
        texts = tf.strings.regex_replace(texts, escape(token), f" {placeholder(index)} ")
    return texts


def strip_marks(texts: tf.Tensor) -> tf.Tensor:
    """Remove combining marks (category Mn), as HF's StripAccents does after NFD/NFKD."""
    return tf.strings.regex_replace(texts, r"\p{Mn}", "")


def lowercase(texts: tf.Tensor) -> tf.Tensor:
    """Unicode lowercase, character by character like HF (ICU alone turns a word-final Σ into ς)."""
    return tf.strings.lower(tf.strings.regex_replace(texts, "\u03a3", "\u03c3"), encoding="utf-8")


class InGraphTokenizer(tf.Module):
    """Batch of strings → ``input_ids``, ``attention_mask``, ``token_type_ids`` (int32, padded right).

    Subclasses turn texts into the content ids (``pieces``); this class truncates, adds the
    special tokens and pads, like the HF tokenizer with ``padding=True, truncation=True``.
    """

    def __init__(self, prefix_ids, suffix_ids, pad_id: int, max_length: int):
        super().__init__(name="in_graph_tokenizer")
        self.prefix_ids, self.suffix_ids, self.pad_id = tuple(prefix_ids), tuple(suffix_ids), pad_id
        self.max_length = max_length

    def pieces(self, texts: tf.Tensor) -> tf.RaggedTensor:
        raise NotImplementedError

    def __call__(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        """Truncate, add special tokens and pad with dense ops only (TFLite has no ragged concat/slice)."""
        pieces = self.pieces(texts)
        room = self.max_length - len(self.prefix_ids) - len(self.suffix_ids)
        lengths = tf.minimum(tf.cast(pieces.row_lengths(), tf.int32), room)
        width = tf.reduce_max(tf.concat([lengths, [0]], axis=0))
        body = pieces.to_tensor(default_value=self.pad_id, shape=[None, room])[:, :width]
        batch = tf.shape(texts)[0]
        prefix = tf.tile(tf.constant([list(self.prefix_ids)], tf.int32), [batch, 1])
        suffix_slots = tf.fill([batch, len(self.suffix_ids)], self.pad_id)
        ids = tf.concat([prefix, body, suffix_slots], axis=1)
        positions = tf.range(tf.shape(ids)[1])[tf.newaxis, :]
        end = lengths[:, tf.newaxis] + len(self.prefix_ids)  # where the suffix starts in each row
        for offset, token_id in enumerate(self.suffix_ids):
            ids = tf.where(positions == end + offset, token_id, ids)
        inside = positions < end + len(self.suffix_ids)
        input_ids = tf.where(inside, ids, self.pad_id)
        return {
            "input_ids": input_ids,
            "attention_mask": tf.cast(inside, tf.int32),
            "token_type_ids": tf.zeros_like(input_ids),
        }


