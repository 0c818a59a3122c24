"""Byte-level BPE in the graph (RoBERTa, GPT-2): added tokens split out, GPT-2's pre-tokenizer regex in RE2,
bytes mapped to symbols and merges applied by rank in a ``tf.while_loop``.

Example:
    >>> BytePairGraphTokenizer(byte_pair_settings(hf_tokenizer), max_length=128)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from tf_pipeline.tokenizers.in_graph_base import InGraphTokenizer, PairTemplate, escape, pair_template, special_ids, tokenizer_spec, valid_utf8
from tf_pipeline.tokenizers.hf import pad_id

@dataclass(frozen=True)
class BytePairSettings:
    """A byte-level BPE fast tokenizer (RoBERTa, GPT-2 style), read from its tokenizer.json."""

    byte_ids: tuple[int, ...]  # vocab id of each byte's symbol (GPT-2's bytes_to_unicode)
    merges: tuple[tuple[int, int, int], ...]  # (left id, right id, merged id), by rank
    vocab_size: int
    add_prefix_space: bool
    use_regex: bool
    added_tokens: tuple[tuple[str, int, bool, bool], ...]  # (content, id, lstrip, rstrip)
    prefix_ids: tuple[int, ...]
    suffix_ids: tuple[int, ...]
    pad_id: int
    pair: PairTemplate | None = None  # the text-pair template (in_graph_base.pair_template)


_PLAIN_BPE = {"dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
              "fuse_unk": False, "byte_fallback": False, "ignore_merges": False}


def byte_pair_settings(tokenizer) -> BytePairSettings | None:
    """Settings of a plain byte-level BPE tokenizer (no normalizer, ByteLevel pre-tokenizer), else ``None``."""
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    spec = tokenizer_spec(tokenizer)
    if spec is None:
        return None
    model, pre = spec.get("model") or {}, spec.get("pre_tokenizer") or {}
    if model.get("type") != "BPE" or pre.get("type") != "ByteLevel" or spec.get("normalizer") is not None:
        return None
    if any(model.get(key) not in (plain, None) for key, plain in _PLAIN_BPE.items()):
        return None
    added = spec.get("added_tokens", [])
    if any(token.get("single_word") for token in added):
        return None
    vocab = model["vocab"]
    symbols = bytes_to_unicode()
    merges = [merge.split(" ") if isinstance(merge, str) else merge for merge in model["merges"]]
    if any(symbols[byte] not in vocab for byte in range(256)) or any(
            left not in vocab or right not in vocab or left + right not in vocab for left, right in merges):
        return None
    content_id = vocab[symbols[ord("a")]]
    prefix_ids, suffix_ids = special_ids(tokenizer, content_id)
    return BytePairSettings(
        byte_ids=tuple(vocab[symbols[byte]] for byte in range(256)),
        merges=tuple((vocab[left], vocab[right], vocab[left + right]) for left, right in merges),
        vocab_size=1 + max([*vocab.values(), *(token["id"] for token in added)]),
        add_prefix_space=bool(pre.get("add_prefix_space", False)),
        use_regex=bool(pre.get("use_regex", True)),
        added_tokens=tuple((token["content"], token["id"], bool(token.get("lstrip")), bool(token.get("rstrip")))
                           for token in added),
        prefix_ids=prefix_ids,
        suffix_ids=suffix_ids, pair=pair_template(tokenizer, content_id),
        pad_id=pad_id(tokenizer),
    )


# GPT-2's pre-tokenizer, ``'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+``
# (tokenizers' ByteLevel), in RE2, which has no look-ahead: ``\s+(?!\S)`` leaves a whitespace run's
# last character to the word after it, so a marker (a Unicode noncharacter) is put before that
# character first, split off as a word of its own, and dropped. ``\s`` is Unicode White_Space.
SPACE = r"\t\n\x{0B}\x{0C}\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
RUN_MARKER = "\uFDD0"
NUL_STAND_IN = "\uFDD2"  # tensorflow_text's regex_split stops at NUL bytes: they are split as this
BYTE_LEVEL_SPLIT = (
    f"{RUN_MARKER}|'s|'t|'re|'ve|'m|'ll|'d| ?\\p{{L}}+| ?\\p{{N}}+| ?[^{SPACE}\\p{{L}}\\p{{N}}{RUN_MARKER}]+|[{SPACE}]+"
)
MAX_WORD_BYTES = 256  # longer words are merged in pieces of this many bytes (a cap on loop steps)


class BytePairGraphTokenizer(InGraphTokenizer):
    """Added tokens → GPT-2 pre-tokenizer → bytes → BPE merges by rank, in TF ops."""

    def __init__(self, settings: BytePairSettings, max_length: int):
        super().__init__(settings.prefix_ids, settings.suffix_ids, settings.pad_id, max_length, settings.pair)
        self.settings = settings
        self.byte_ids = tf.constant(settings.byte_ids, tf.int64)
        size = settings.vocab_size
        ranked = {}  # (left, right) → rank × size + merged id; a repeated pair keeps its first rank
        for rank, (left, right, merged) in enumerate(settings.merges):
            ranked.setdefault(left * size + right, rank * size + merged)
        self.merge_table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            tf.constant(list(ranked), tf.int64), tf.constant(list(ranked.values()), tf.int64)), default_value=-1)
        contents = [content for content, *_ in settings.added_tokens]
        self.added_table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            tf.constant(contents + ["\uFDD1"], tf.string),  # never empty: the table needs a key
            tf.constant([token_id for _, token_id, *_ in settings.added_tokens] + [-1], tf.int64),
        ), default_value=-1)
        self.added_pattern = "|".join(
            (f"[{SPACE}]*" if lstrip else "") + escape(content) + (f"[{SPACE}]*" if rstrip else "")
            for content, _, lstrip, rstrip in sorted(settings.added_tokens, key=lambda token: -len(token[0]))
        )

    def segments(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """``[batch, (segments)]``: added tokens (with the whitespace they strip) and the text between them."""
        import tensorflow_text as tf_text

        if not self.added_pattern:
            return tf.RaggedTensor.from_tensor(texts[:, tf.newaxis])
        return tf_text.regex_split(texts, self.added_pattern, self.added_pattern)

    def words(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """ByteLevel pre-tokenization of plain text: ``[texts, (words)]``."""
        import tensorflow_text as tf_text

        if not self.settings.use_regex:
            return tf.RaggedTensor.from_tensor(texts[:, tf.newaxis], padding="")
        texts = tf.strings.regex_replace(texts, f"([{SPACE}]+)([{SPACE}])([^{SPACE}])", f"\\1{RUN_MARKER}\\2\\3")
        words = tf_text.regex_split(texts, BYTE_LEVEL_SPLIT, BYTE_LEVEL_SPLIT)
        words = tf.ragged.boolean_mask(words, words != RUN_MARKER)
        return tf.ragged.map_flat_values(tf.strings.regex_replace, words, NUL_STAND_IN, "\x00")

    def merge(self, symbols: tf.Tensor) -> tf.Tensor:
        """Apply the merges to ``[words, length]`` symbol ids (-1 pads): lowest rank first, leftmost first."""
        size = self.settings.vocab_size
        length = tf.shape(symbols, out_type=tf.int64)[1]
        columns = tf.range(length)[tf.newaxis]
        never = tf.constant(2 ** 62, tf.int64)

        def step(symbols, active):
            rows = tf.where(active)[:, 0]
            word = tf.gather(symbols, rows)
            left, right = word[:, :-1], word[:, 1:]
            found = self.merge_table.lookup(tf.where((left >= 0) & (right >= 0), left * size + right, -1))
            rank = tf.where(found >= 0, found // size, never)
            best = tf.reduce_min(tf.concat([rank, tf.fill([tf.shape(rank)[0], 1], never)], axis=1), axis=1)
            merges = best < never
            pairs = columns[:, :-1]
            at = tf.reduce_min(tf.where((rank == best[:, tf.newaxis]) & merges[:, tf.newaxis], pairs, length), axis=1)
            merged = tf.reduce_max(tf.where(pairs == at[:, tf.newaxis], found % size, -1), axis=1)
            source = columns + tf.cast(columns > at[:, tf.newaxis], tf.int64)
            shifted = tf.where(source < length, tf.gather(word, tf.minimum(source, length - 1), batch_dims=1), -1)
            word = tf.where(columns == at[:, tf.newaxis], merged[:, tf.newaxis], shifted)
            return (tf.tensor_scatter_nd_update(symbols, rows[:, tf.newaxis], word),
                    tf.tensor_scatter_nd_update(active, rows[:, tf.newaxis], merges))

        symbols, _ = tf.while_loop(lambda _, active: tf.reduce_any(active), step,
                                   (symbols, tf.ones(tf.shape(symbols)[:1], tf.bool)))
        return symbols

    def pair_pieces(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """Every word's ids: a pair is truncated by its texts' true lengths."""
        return self.pieces(texts, all_words=True)

    def word_ids(self, words: tf.Tensor) -> tf.RaggedTensor:
        """``[words]`` strings → ``[words, (ids)]``; each distinct word is merged once."""
        unique, index = tf.unique(words)
        characters = tf.strings.bytes_split(unique)
        codes = tf.reshape(tf.io.decode_raw(characters.flat_values, tf.uint8), [-1])
        rows = characters.value_rowids()
        position = tf.range(tf.size(rows, out_type=tf.int64)) - tf.gather(characters.row_starts(), rows)
        starts = position % MAX_WORD_BYTES == 0  # a new piece every MAX_WORD_BYTES bytes of a word
        pieces = tf.RaggedTensor.from_value_rowids(
            tf.gather(self.byte_ids, tf.cast(codes, tf.int64)), tf.cumsum(tf.cast(starts, tf.int64)) - 1)
        merged = tf.RaggedTensor.from_tensor(self.merge(pieces.to_tensor(default_value=-1)), padding=-1)
        per_word = tf.RaggedTensor.from_value_rowids(
            merged, tf.boolean_mask(rows, starts), nrows=tf.size(unique, out_type=tf.int64))
        return tf.gather(per_word.merge_dims(1, 2), index)

    def pieces(self, texts: tf.Tensor, *, all_words: bool = False) -> tf.RaggedTensor:
        """Each text's ids; only its first ``max_length`` words (enough to fill the model) unless ``all_words``."""
        texts = valid_utf8(texts)
        segments = self.segments(tf.strings.regex_replace(texts, "\x00", NUL_STAND_IN))
        flat = segments.flat_values
        token_ids = self.added_table.lookup(tf.strings.regex_replace(flat, f"^[{SPACE}]+|[{SPACE}]+$", ""))
        is_token = token_ids >= 0
        if self.settings.add_prefix_space:  # tokenizers: prepend " " unless the text starts with one
            flat = tf.where(tf.strings.regex_full_match(flat, "(?s) .*"), flat, tf.strings.join([" ", flat]))
        words = self.words(tf.where(is_token, "", flat))
        if not all_words:
            words = words[:, : self.max_length]  # each word is ≥ 1 token
        text_ids = words.with_flat_values(self.word_ids(words.flat_values)).merge_dims(1, 2)
        token_part = tf.RaggedTensor.from_row_lengths(tf.boolean_mask(token_ids, is_token), tf.cast(is_token, tf.int64))
        ids = tf.concat([token_part, text_ids], axis=1)
        return tf.cast(segments.with_flat_values(ids).merge_dims(1, 2), tf.int32)
