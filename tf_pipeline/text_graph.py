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

Other tokenizers have no in-graph form here: :meth:`InGraphTokenizer.from_hf` returns ``None``
and exports take token ids.

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
    spec = _tokenizer_spec(tokenizer)
    if spec is None:
        return None
    model, normalizer, pre = spec.get("model") or {}, spec.get("normalizer") or {}, spec.get("pre_tokenizer") or {}
    if model.get("type") != "WordPiece" or normalizer.get("type") != "BertNormalizer":
        return None
    if pre.get("type") != "BertPreTokenizer":
        return None
    vocab = sorted(model["vocab"].items(), key=lambda item: item[1])
    if [index for _, index in vocab] != list(range(len(vocab))):
        return None
    prefix_ids, suffix_ids = _special_ids(tokenizer, model["vocab"][model["unk_token"]])
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
        prefix_ids=prefix_ids,
        suffix_ids=suffix_ids,
        pad_id=_pad_id(tokenizer),
        raw_added_tokens=tuple(token["content"] for token in added if not token.get("normalized")),
        normalized_added_tokens=tuple(token["content"] for token in added if token.get("normalized")),
    )


def _tokenizer_spec(tokenizer) -> dict | None:
    """A fast tokenizer's ``tokenizer.json`` as a dict; ``None`` for a slow or left-padding tokenizer."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or getattr(tokenizer, "padding_side", "right") != "right":
        return None
    return json.loads(backend.to_str())


def _special_ids(tokenizer, content_id: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The ids the tokenizer puts before and after a text's own ids, e.g. ``((101,), (102,))``."""
    with_specials = tokenizer.build_inputs_with_special_tokens([content_id])
    split = with_specials.index(content_id)
    return tuple(with_specials[:split]), tuple(with_specials[split + 1:])


def _pad_id(tokenizer) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0


def valid_utf8(texts: tf.Tensor) -> tf.Tensor:
    """Invalid UTF-8 bytes replaced by U+FFFD, as Python's ``bytes.decode(errors="replace")``."""
    return tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD)


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

    texts = valid_utf8(texts)
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
        byte_pair = byte_pair_settings(tokenizer)
        if byte_pair is not None:
            return BytePairGraphTokenizer(byte_pair, max_length)
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

    spec = _tokenizer_spec(tokenizer)
    model_file = getattr(tokenizer, "vocab_file", None)
    if spec is None or not model_file or not Path(model_file).is_file():
        return None
    if (spec.get("model") or {}).get("type") != "Unigram" or (spec.get("pre_tokenizer") or {}).get("type") != "Metaspace":
        return None
    steps = _normalizer_steps(spec.get("normalizer"))
    if steps is None:
        return None
    import sentencepiece

    proto = Path(model_file).read_bytes()
    processor = sentencepiece.SentencePieceProcessor(model_proto=proto)
    id_map = tuple(tokenizer.convert_tokens_to_ids(processor.id_to_piece(i)) for i in range(processor.get_piece_size()))
    prefix_ids, suffix_ids = _special_ids(tokenizer, tokenizer.unk_token_id)
    return SentencePieceSettings(model_proto=proto, steps=steps, id_map=id_map, prefix_ids=prefix_ids,
                                 suffix_ids=suffix_ids, pad_id=_pad_id(tokenizer))


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

        texts = valid_utf8(texts)
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


_PLAIN_BPE = {"dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
              "fuse_unk": False, "byte_fallback": False, "ignore_merges": False}


def byte_pair_settings(tokenizer) -> BytePairSettings | None:
    """Settings of a plain byte-level BPE tokenizer (no normalizer, ByteLevel pre-tokenizer), else ``None``."""
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    spec = _tokenizer_spec(tokenizer)
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
    prefix_ids, suffix_ids = _special_ids(tokenizer, vocab[symbols[ord("a")]])
    return BytePairSettings(
        byte_ids=tuple(vocab[symbols[byte]] for byte in range(256)),
        merges=tuple((vocab[left], vocab[right], vocab[left + right]) for left, right in merges),
        vocab_size=1 + max([*vocab.values(), *(token["id"] for token in added)]),
        add_prefix_space=bool(pre.get("add_prefix_space", False)),
        use_regex=bool(pre.get("use_regex", True)),
        added_tokens=tuple((token["content"], token["id"], bool(token.get("lstrip")), bool(token.get("rstrip")))
                           for token in added),
        prefix_ids=prefix_ids,
        suffix_ids=suffix_ids,
        pad_id=_pad_id(tokenizer),
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
        super().__init__(settings.prefix_ids, settings.suffix_ids, settings.pad_id, max_length)
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
            (f"[{SPACE}]*" if lstrip else "") + _escape(content) + (f"[{SPACE}]*" if rstrip else "")
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

    def pieces(self, texts: tf.Tensor) -> tf.RaggedTensor:
        texts = valid_utf8(texts)
        segments = self.segments(tf.strings.regex_replace(texts, "\x00", NUL_STAND_IN))
        flat = segments.flat_values
        token_ids = self.added_table.lookup(tf.strings.regex_replace(flat, f"^[{SPACE}]+|[{SPACE}]+$", ""))
        is_token = token_ids >= 0
        if self.settings.add_prefix_space:  # tokenizers: prepend " " unless the text starts with one
            flat = tf.where(tf.strings.regex_full_match(flat, "(?s) .*"), flat, tf.strings.join([" ", flat]))
        words = self.words(tf.where(is_token, "", flat))[:, : self.max_length]  # each word is ≥ 1 token
        text_ids = words.with_flat_values(self.word_ids(words.flat_values)).merge_dims(1, 2)
        token_part = tf.RaggedTensor.from_row_lengths(tf.boolean_mask(token_ids, is_token), tf.cast(is_token, tf.int64))
        ids = tf.concat([token_part, text_ids], axis=1)
        return tf.cast(segments.with_flat_values(ids).merge_dims(1, 2), tf.int32)
