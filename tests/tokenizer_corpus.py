"""A varied corpus (≥ 2,000 lines, made deterministically) for holding the in-graph tokenizer to HF's ids.

Every line of the shipped sentiment set, plus lines mixing: accented Latin, CJK, Korean,
Arabic, Hebrew, Devanagari, Thai, Cyrillic, Greek (with capitals and final sigma), emoji
(skin tones, ZWJ families, flags), punctuation runs, control and format characters,
zero-width and odd spaces, full-width forms and ligatures, combining marks, URLs, code,
numbers, special tokens typed by users, invalid surrogates' replacement characters, very
long words and lines, and whitespace-only lines.
"""

from __future__ import annotations

import random

from tf_pipeline.training.data import sentiment_set

PIECES = [
    "Café", "déjà vu", "naïve", "résumé", "Ångström", "Straße", "façade", "coöperate", "Ñandú", "Việt Nam",
    "東京の天気は晴れです", "北京欢迎你", "我爱自然语言处理", "한국어 텍스트", "カタカナ", "ひらがな", "漢字かな混じり",
    "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Привет, мир!", "ΣΟΦΟΣ ΆΝΘΡΩΠΟΣ", "ὀδυσσεύς", "σοφός",
    "😀", "🎉🎉🎉", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "🤖 robots", "☕️", "✔︎",
    "!!!", "?!?!", "...", "---", "***", "(((nested)))", "«quoted»", "“smart quotes”", "‘single’", "¿qué?", "¡olé!",
    "…", "—", "–", "•", "§1.2", "©", "®", "™", "°C", "½", "€100", "$3.50", "£", "¥", "₹",
    "\x00", "\x07", "\x1b[31mred\x1b[0m", "\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad", "\u2028", "\u2029",
    "\u00a0", "\u2003", "\u3000", "\t", "\r\n", "\x0b", "\x0c", "\x85",
    "ＦＵＬＬ　ＷＩＤＴＨ", "ﬁne ﬂow", "①②③", "x²", "H₂O", "Ⅻ",
    "e\u0301", "n\u0303", "a\u0308\u0304", "Z\u0335\u0321a\u0336lgo",
    "https://example.com/path?q=1&r=2", "user@example.org", "C:\\Windows\\System32", "def f(x): return x**2",
    "<b>bold</b>", "&amp; &lt;", "#hashtag", "@mention", "snake_case_name", "camelCaseName", "kebab-case-name",
    "12345", "3.14159", "1,000,000", "2026-11-24", "10:30pm", "+44 20 7946 0958", "0xDEADBEEF",
    "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[sep]", "[ SEP ]", "hello[SEP]world",
    "\ufffd", "\u0378", "\ue000", "\U000e0001", "İstanbul", "ǅemal", "ß", "ẞ", "ﬀ", "Ω", "Å", "K",
    "supercalifragilisticexpialidocious", "a" * 99, "b" * 100, "c" * 101, "é" * 101, "日" * 120,
    "antidisestablishmentarianism", "Donaudampfschifffahrtsgesellschaftskapitän",
]
WHITESPACE_ONLY = ["", " ", "   ", "\t", "\n", "\r\n", "\u3000", "\u00a0 \u2003", " \t \n "]


def corpus(size: int = 2000, seed: int = 0) -> list[str]:
    """The sentiment set's sentences, whitespace-only lines, long lines, and random mixes up to ``size``."""
    rng = random.Random(seed)
    lines = [example.text for split in ("train", "heldout") for example in sentiment_set(split)]
    lines += WHITESPACE_ONLY
    lines += [" ".join(rng.choice(PIECES) for _ in range(400)), "word " * 3000, "x" * 100_000]
    while len(lines) < size:
        base = rng.choice(lines[:752]).split()
        for _ in range(rng.randint(1, 4)):
            base.insert(rng.randint(0, len(base)), rng.choice(PIECES))
        separator = rng.choice([" ", "", "  ", "\t", " \u00a0"])
        lines.append(separator.join(base) if rng.random() < 0.8 else "".join(rng.choice(PIECES) for _ in range(5)))
    return lines
