"""The in-graph WordPiece tokenizer classifies characters as HF's tokenizers does (its Unicode 8.0 tables)."""

import tensorflow as tf

from tf_pipeline.tokenizers.wordpiece import CJK, CONTROL, MARKS, PUNCTUATION, WordPieceGraphTokenizer, wordpiece_settings

# tokenizers' BertNormalizer and BertPreTokenizer classify characters with Unicode 8.0 tables (the
# unicode_categories crate) and space out CJK from U+2B920; RE2's \p{P}, \p{Mn}, \p{C} are newer
# Unicode. One text per kind of character where the two disagreed; the in-graph tokenizer follows HF.
UNICODE_8_TABLES = {
    "reported stress line": "\u200dゎ֤侒,″💖🐢곬⁍ェ۲⁛οE걶곻Ś伪갓ॊ\u2060価·ϊ؝Ѷ",
    "P* since Unicode 9 (U+061D, U+2E43): not split": "word\u061dword a\u2e43b",
    "Mn since Unicode 9 (U+07FD): not stripped": "a\u07fdb",
    "Cf since Unicode 9 (U+0890): not removed": "a\u0890b",
    "Po in 8.0, So now (U+166D): split": "a\u166db",
    "Po in 8.0, Mn now (U+111C9): split, not stripped": "a\U000111c9b",
    "Mn in 8.0, Mc now (U+1734): stripped": "a\u1734b",
    "U+2B820-U+2B91F: not spaced out as CJK": "a\U0002b820b",
}


def test_in_graph_wordpiece_follows_tokenizers_unicode_8_tables(default_pipe):
    settings = wordpiece_settings(default_pipe.tokenizer)
    full = WordPieceGraphTokenizer(settings, default_pipe.max_length)  # TFLite's: tests/export/test_tflite.py

    def ids(tokenizer, text):
        return tokenizer(tf.constant([text]))["input_ids"].numpy()[0].tolist()

    for kind, text in UNICODE_8_TABLES.items():
        expected = default_pipe.preprocess([text])["input_ids"].numpy()[0].tolist()
        assert ids(full, text) == expected, kind


def test_bert_character_classes_are_tokenizers_own_code_point_by_code_point():
    """Every code point (~10 s): the RE2 classes select exactly what tokenizers' Bert components do."""
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    texts = tf.constant(chars)

    def matches(pattern):
        return tf.strings.regex_full_match(texts, pattern).numpy().tolist()

    def normalizer(**step):
        flags = dict(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=False)
        return BertNormalizer(**{**flags, **step}).normalize_str

    split, clean, strip, chinese = (BertPreTokenizer().pre_tokenize_str, normalizer(clean_text=True),
                                    normalizer(strip_accents=True), normalizer(handle_chinese_chars=True))
    checks = {
        "punctuation": (matches(PUNCTUATION), [len(split(f"a{c}a")) == 3 for c in chars]),
        "control": (matches(CONTROL), [clean(c) == "" for c in chars]),
        "marks": (matches(MARKS), [strip(c) == "" for c in chars]),
        "chinese": (matches(f"[{CJK}]"), [chinese(c) != c for c in chars]),
    }
    for name, (ours, theirs) in checks.items():
        wrong = [f"U+{ord(c):04X}" for c, a, b in zip(chars, ours, theirs) if a != b]
        assert wrong == [], f"{name}: {len(wrong)} code points differ, e.g. {wrong[:10]}"
