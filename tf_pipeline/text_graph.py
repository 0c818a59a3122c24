"""Strings → token ids inside the TensorFlow graph (tensorflow_text), held to the HF tokenizer's ids.

Rebuilds a BERT-family fast tokenizer (BertNormalizer → BertPreTokenizer → WordPiece →
``[CLS] … [SEP]``) from its own ``tokenizer.json`` settings with ops that TF Serving links:
core string ops, ``tensorflow_text.regex_split`` and ``FastWordpieceTokenizer``.

Example:
    >>> text_tokenizer = InGraphTokenizer.from_hf(pipe.tokenizer, max_length=128)
    >>> text_tokenizer(tf.constant(["I hate this so much!"]))["input_ids"]
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import tensorflow as tf

# HF's _is_chinese_char ranges (CJK ideographs), which BertNormalizer surrounds with spaces.
CJK = (
    r"\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}"
    r"\x{2B740}-\x{2B81F}\x{2B820}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}"
)
# BertPreTokenizer: ASCII punctuation and every Unicode P* character are tokens of their own.
PUNCTUATION = r"[!-/:-@\[-`{-~\p{P}]"
# Rust's char::is_whitespace (what tokenizers uses), minus controls already removed.
WHITESPACE = r"[\t\n\r\x{0B}\x{0C}\x{85}\p{Zs}\x{2028}\x{2029}]"
CONTROL = r"[\x{0}\x{FFFD}]|[^\P{C}\t\n\r]"  # HF clean_text removes these


@dataclass(frozen=True)
class WordPieceSettings:
    """What a BERT-family fast tokenizer does, read from its tokenizer.json."""

    vocab: tuple[str, ...]
    unk_token: str
    subword_prefix: str
    max_chars_per_word: int
    clean_text: bool
    chinese_chars: bool
    strip_accents: bool
    lowercase: bool
    prefix_ids: tuple[int, ...]
    suffix_ids: tuple[int, ...]
    pad_id: int
    raw_added_tokens: tuple[str, ...] = ()  # matched in the raw text, like [SEP] typed by a user
    normalized_added_tokens: tuple[str, ...] = ()  # matched after normalisation


def wordpiece_settings(tokenizer) -> WordPieceSettings | None:
    """The tokenizer's WordPiece settings, or ``None`` if it is not a BERT-style WordPiece tokenizer."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or getattr(tokenizer, "padding_side", "right") != "right":
        return None
    spec = json.loads(backend.to_str())
    model, normalizer, pre = spec.get("model") or {}, spec.get("normalizer") or {}, spec.get("pre_tokenizer") or {}
    if model.get("type") != "WordPiece" or normalizer.get("type") != "BertNormalizer":
        return None
    if pre.get("type") != "BertPreTokenizer":
        return None
    vocab = sorted(model["vocab"].items(), key=lambda item: item[1])
    if [index for _, index in vocab] != list(range(len(vocab))):
        return None
    marker = model["vocab"][model["unk_token"]]
    with_specials = tokenizer.build_inputs_with_special_tokens([marker])
    split = with_specials.index(marker)
    lowercase = bool(normalizer.get("lowercase", True))
    strip = normalizer.get("strip_accents")
    added = [token for token in spec.get("added_tokens", []) if token["content"] in model["vocab"]]
    return WordPieceSettings(
        vocab=tuple(token for token, _ in vocab),
        unk_token=model["unk_token"],
        subword_prefix=model.get("continuing_subword_prefix", "##"),
        max_chars_per_word=int(model.get("max_input_chars_per_word", 100)),
        clean_text=bool(normalizer.get("clean_text", True)),
        chinese_chars=bool(normalizer.get("handle_chinese_chars", True)),
        strip_accents=lowercase if strip is None else bool(strip),
        lowercase=lowercase,
        prefix_ids=tuple(with_specials[:split]),
        suffix_ids=tuple(with_specials[split + 1 :]),
        pad_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
        raw_added_tokens=tuple(token["content"] for token in added if not token.get("normalized")),
        normalized_added_tokens=tuple(token["content"] for token in added if token.get("normalized")),
    )


def _escape(text: str) -> str:
    """``text`` as a literal RE2 pattern."""
    return "".join("\\" + char if char in r"\.^$|?*+()[]{}-" else char for char in text)


def _placeholder(index: int) -> str:
    """A word that survives normalisation and splitting unchanged, standing in for added token ``index``."""
    return f"tfpipelineaddedtoken{index}x"


def _protect(texts: tf.Tensor, tokens: tuple[str, ...], offset: int) -> tf.Tensor:
    # Longest first, as HF's added-token matcher prefers the longest match.
    for index, token in sorted(enumerate(tokens, start=offset), key=lambda item: -len(item[1])):
        texts = tf.strings.regex_replace(texts, _escape(token), f" {_placeholder(index)} ")
    return texts


def normalize(texts: tf.Tensor, settings: WordPieceSettings) -> tf.Tensor:
    """BertNormalizer in TF ops: clean, space out CJK, strip accents, lowercase."""
    import tensorflow_text as tf_text

    texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)
    if settings.clean_text:
        texts = tf.strings.regex_replace(texts, CONTROL, "")
        texts = tf.strings.regex_replace(texts, WHITESPACE, " ")
    if settings.chinese_chars:
        texts = tf.strings.regex_replace(texts, f"([{CJK}])", r" \1 ")
    if settings.strip_accents:
        texts = tf.strings.regex_replace(tf_text.normalize_utf8(texts, "NFD"), r"\p{Mn}", "")
    if settings.lowercase:
        # ICU lowercases a word-final Σ to ς; HF lowercases character by character, to σ.
        texts = tf.strings.lower(tf.strings.regex_replace(texts, "\u03a3", "\u03c3"), encoding="utf-8")
    return texts


class InGraphTokenizer(tf.Module):
    """Batch of strings → ``input_ids``, ``attention_mask``, ``token_type_ids`` (int32, padded right)."""

    def __init__(self, settings: WordPieceSettings, max_length: int):
        super().__init__(name="in_graph_tokenizer")
        import tensorflow_text as tf_text

        self.settings = settings
        self.max_length = max_length
        self.wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=list(settings.vocab),
            suffix_indicator=settings.subword_prefix,
            max_bytes_per_word=4 * settings.max_chars_per_word + 4,  # the char limit is applied below
            token_out_type=tf.int32,
            unknown_token=settings.unk_token,
            no_pretokenization=True,
            support_detokenization=False,
        )

    @classmethod
    def from_hf(cls, tokenizer, max_length: int) -> "InGraphTokenizer | None":
        settings = wordpiece_settings(tokenizer)
        return None if settings is None else cls(settings, max_length)

    def words(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """Normalised words and punctuation marks, ``[batch, (words)]``; over-long words become UNK."""
        import tensorflow_text as tf_text

        s = self.settings
        texts = _protect(texts, s.raw_added_tokens, 0)
        texts = _protect(normalize(texts, s), s.normalized_added_tokens, len(s.raw_added_tokens))
        words = tf_text.regex_split(
            texts, delim_regex_pattern=f"{WHITESPACE}+|{PUNCTUATION}", keep_delim_regex_pattern=PUNCTUATION
        )
        flat = words.flat_values
        flat = tf.where(tf.strings.length(flat, unit="UTF8_CHAR") > s.max_chars_per_word, s.unk_token, flat)
        for index, token in enumerate(s.raw_added_tokens + s.normalized_added_tokens):
            flat = tf.where(flat == _placeholder(index), token, flat)
        return words.with_flat_values(flat)

    def __call__(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        s = self.settings
        pieces = self.wordpiece.tokenize(self.words(texts)).merge_dims(-2, -1)
        pieces = pieces[:, : self.max_length - len(s.prefix_ids) - len(s.suffix_ids)]
        batch = tf.shape(texts)[0]

        def constant_columns(ids):
            return tf.RaggedTensor.from_tensor(tf.tile(tf.constant([list(ids)], tf.int32), [batch, 1]))

        ids = tf.concat([constant_columns(s.prefix_ids), pieces, constant_columns(s.suffix_ids)], axis=1)
        input_ids = ids.to_tensor(default_value=s.pad_id)
        return {
            "input_ids": input_ids,
            "attention_mask": tf.ones_like(ids).to_tensor(default_value=0),
            "token_type_ids": tf.zeros_like(input_ids),
        }
