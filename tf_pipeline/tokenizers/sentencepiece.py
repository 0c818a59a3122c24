"""SentencePiece Unigram in the graph (ALBERT, XLNet-style ``spiece.model``): the normalizer steps, then
tensorflow_text's SentencePiece on the tokenizer's own model, ids mapped to the HF vocabulary.

Example:
    >>> SentencePieceGraphTokenizer(sentencepiece_settings(hf_tokenizer), max_length=128)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from tf_pipeline.tokenizers.in_graph_base import InGraphTokenizer, PairTemplate, escape, lowercase, pair_template, special_ids, strip_marks, tokenizer_spec, valid_utf8
from tf_pipeline.tokenizers.hf import pad_id

@dataclass(frozen=True)
class SentencePieceSettings:
    """A SentencePiece (Unigram + Metaspace) fast tokenizer: its model file and the steps before it."""

    model_proto: bytes
    steps: tuple[tuple[str, ...], ...]  # ("replace", RE2 pattern, content) | ("NFKD",) | ("StripAccents",) | ("Lowercase",)
    id_map: tuple[int, ...]  # SentencePiece id → HF id
    prefix_ids: tuple[int, ...]
    suffix_ids: tuple[int, ...]
    pad_id: int
    pair: PairTemplate | None = None  # the text-pair template (in_graph_base.pair_template)


_NORMALIZATION_FORMS = {"NFKD", "NFD", "NFKC", "NFC"}


def sentencepiece_settings(tokenizer) -> SentencePieceSettings | None:
    """Settings for a Unigram/Metaspace tokenizer that ships its ``.model`` file, else ``None``."""
    from pathlib import Path

    spec = tokenizer_spec(tokenizer)
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
    content_id = tokenizer.unk_token_id
    prefix_ids, suffix_ids = special_ids(tokenizer, content_id)
    return SentencePieceSettings(model_proto=proto, steps=steps, id_map=id_map, prefix_ids=prefix_ids,
                                 suffix_ids=suffix_ids, pair=pair_template(tokenizer, content_id), pad_id=pad_id(tokenizer))


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
            steps.append(("replace", escape(pattern["String"]) if "String" in pattern else pattern["Regex"], part["content"]))
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
        super().__init__(settings.prefix_ids, settings.suffix_ids, settings.pad_id, max_length, settings.pair)
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


