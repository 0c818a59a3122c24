"""Strings → token ids inside the TensorFlow graph (tensorflow_text), held to the HF tokenizer's ids.

Rebuilds a fast tokenizer from its own ``tokenizer.json`` settings with ops that TF Serving
links (core string ops and tensorflow-text 2.20):

- BERT-family WordPiece (BertNormalizer → BertPreTokenizer → WordPiece): core regex ops,
  ``tensorflow_text.regex_split`` and ``FastWordpieceTokenizer``;
- SentencePiece Unigram (ALBERT, XLNet-style ``spiece.model``): the listed normalizer steps,
  then ``tensorflow_text.SentencepieceTokenizer`` on the tokenizer's own model file, with SP
  ids mapped to the HF vocabulary (which also covers fairseq-style offsets).

Byte-level BPE (RoBERTa, GPT-2) has no in-graph form here: :meth:`InGraphTokenizer.from_hf`
returns ``None`` and exports take token ids.

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
        texts = strip_marks(tf_text.normalize_utf8(texts, "NFD"))
    if settings.lowercase:
        texts = lowercase(texts)
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

    @staticmethod
    def from_hf(tokenizer, max_length: int) -> "InGraphTokenizer | None":
        """The in-graph equivalent of an HF fast tokenizer, or ``None`` if there is none."""
        wordpiece = wordpiece_settings(tokenizer)
        if wordpiece is not None:
            return WordPieceGraphTokenizer(wordpiece, max_length)
        sentencepiece = sentencepiece_settings(tokenizer)
        if sentencepiece is not None:
            return SentencePieceGraphTokenizer(sentencepiece, max_length)
        return None

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


class WordPieceGraphTokenizer(InGraphTokenizer):
    """BertNormalizer → BertPreTokenizer → WordPiece, in TF ops."""

    def __init__(self, settings: WordPieceSettings, max_length: int):
        super().__init__(settings.prefix_ids, settings.suffix_ids, settings.pad_id, max_length)
        import tensorflow_text as tf_text

        self.settings = settings
        self.wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=list(settings.vocab),
            suffix_indicator=settings.subword_prefix,
            max_bytes_per_word=4 * settings.max_chars_per_word + 4,  # the char limit is applied in words()
            token_out_type=tf.int32,
            unknown_token=settings.unk_token,
            no_pretokenization=True,
            support_detokenization=False,
        )

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

    def pieces(self, texts: tf.Tensor) -> tf.RaggedTensor:
        return self.wordpiece.tokenize(self.words(texts)).merge_dims(-2, -1)


class LiteWordPieceGraphTokenizer(InGraphTokenizer):
    """WordPiece with only ops that have TFLite kernels: FastBertNormalizer + end-to-end FastWordpieceTokenizer.

    Agrees with the HF tokenizer on ordinary text, but not on everything :class:`WordPieceGraphTokenizer`
    handles (typed special tokens, NFKC case folding, Greek final sigma, some control characters).
    """

    def __init__(self, settings: WordPieceSettings, max_length: int):
        super().__init__(settings.prefix_ids, settings.suffix_ids, settings.pad_id, max_length)
        import tensorflow_text as tf_text

        self.normalizer = tf_text.FastBertNormalizer(lower_case_nfd_strip_accents=settings.lowercase)
        self.wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=list(settings.vocab), suffix_indicator=settings.subword_prefix,
            max_bytes_per_word=settings.max_chars_per_word, token_out_type=tf.int32,
            unknown_token=settings.unk_token, no_pretokenization=False, support_detokenization=False,
        )

    def pieces(self, texts: tf.Tensor) -> tf.RaggedTensor:
        return self.wordpiece.tokenize(self.normalizer.normalize(texts))


@dataclass(frozen=True)
class SentencePieceSettings:
    """A SentencePiece (Unigram + Metaspace) fast tokenizer: its model file and the steps before it."""

    model_proto: bytes
    steps: tuple[tuple[str, ...], ...]  # ("replace", RE2 pattern, content) | ("NFKD",) | ("StripAccents",) | ("Lowercase",)
    id_map: tuple[int, ...]  # SentencePiece id → HF id
    prefix_ids: tuple[int, ...]
    suffix_ids: tuple[int, ...]
    pad_id: int


_NORMALIZATION_FORMS = {"NFKD", "NFD", "NFKC", "NFC"}


def sentencepiece_settings(tokenizer) -> SentencePieceSettings | None:
    """Settings for a Unigram/Metaspace tokenizer that ships its ``.model`` file, else ``None``."""
    from pathlib import Path

    backend = getattr(tokenizer, "backend_tokenizer", None)
    model_file = getattr(tokenizer, "vocab_file", None)
    if backend is None or not model_file or not Path(model_file).is_file() or tokenizer.padding_side != "right":
        return None
    spec = json.loads(backend.to_str())
    if (spec.get("model") or {}).get("type") != "Unigram" or (spec.get("pre_tokenizer") or {}).get("type") != "Metaspace":
        return None
    steps = _normalizer_steps(spec.get("normalizer"))
    if steps is None:
        return None
    import sentencepiece

    proto = Path(model_file).read_bytes()
    processor = sentencepiece.SentencePieceProcessor(model_proto=proto)
    id_map = tuple(tokenizer.convert_tokens_to_ids(processor.id_to_piece(i)) for i in range(processor.get_piece_size()))
    marker = tokenizer.unk_token_id
    with_specials = tokenizer.build_inputs_with_special_tokens([marker])
    split = with_specials.index(marker)
    return SentencePieceSettings(
        model_proto=proto, steps=steps, id_map=id_map, prefix_ids=tuple(with_specials[:split]),
        suffix_ids=tuple(with_specials[split + 1:]),
        pad_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
    )


def _normalizer_steps(normalizer) -> tuple[tuple[str, ...], ...] | None:
    """HF normalizers as TF steps; Precompiled is left to SentencePiece itself (the same charsmap)."""
    if normalizer is None:
        return ()
    parts = normalizer["normalizers"] if normalizer["type"] == "Sequence" else [normalizer]
    steps = []
    for part in parts:
        kind = part["type"]
        if kind == "Replace":
            pattern = part["pattern"]
            steps.append(("replace", _escape(pattern["String"]) if "String" in pattern else pattern["Regex"], part["content"]))
        elif kind in _NORMALIZATION_FORMS:
            steps.append((kind,))
        elif kind in {"StripAccents", "Lowercase"}:
            steps.append((kind,))
        elif kind != "Precompiled":
            return None
    return tuple(steps)


class SentencePieceGraphTokenizer(InGraphTokenizer):
    """The tokenizer's normalizer steps, then tensorflow_text's SentencePiece on its own model."""

    def __init__(self, settings: SentencePieceSettings, max_length: int):
        super().__init__(settings.prefix_ids, settings.suffix_ids, settings.pad_id, max_length)
        import tensorflow_text as tf_text

        self.settings = settings
        self.sentencepiece = tf_text.SentencepieceTokenizer(model=settings.model_proto, out_type=tf.int32)
        self.id_map = tf.constant(settings.id_map, tf.int32)

    def normalize(self, texts: tf.Tensor) -> tf.Tensor:
        import tensorflow_text as tf_text

        texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)
        for step in self.settings.steps:
            if step[0] == "replace":
                texts = tf.strings.regex_replace(texts, step[1], step[2].replace("\\", "\\\\"))
            elif step[0] in _NORMALIZATION_FORMS:
                texts = tf_text.normalize_utf8(texts, step[0])
            elif step[0] == "StripAccents":
                texts = strip_marks(texts)
            elif step[0] == "Lowercase":
                texts = lowercase(texts)
        return texts

    def pieces(self, texts: tf.Tensor) -> tf.RaggedTensor:
        ids = self.sentencepiece.tokenize(self.normalize(texts))
        return tf.ragged.map_flat_values(tf.gather, self.id_map, ids)
