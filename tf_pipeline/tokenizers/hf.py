"""The Hugging Face tokenizer call, defined once: what every runner that tokenizes in Python uses.

Example:
    >>> encode(tokenizer, ["I hate this so much!"], max_length=128, return_tensors="np")["input_ids"]
"""

from __future__ import annotations

from typing import Sequence


def encode(tokenizer, texts: Sequence[str], max_length: int, return_tensors: str | None = "tf",
           padding: bool = True) -> dict:
    """Token ids like HF's pipeline: padded to the longest text, truncated to ``max_length``.

    ``padding=False`` (with ``return_tensors=None``): one unpadded list of ids per text.
    """
    return dict(tokenizer(list(texts), padding=padding, truncation=True, max_length=max_length,
                          return_tensors=return_tensors))


def pad_id(tokenizer) -> int:
    """The id that fills padded slots (0 when the tokenizer has no pad token)."""
    return tokenizer.pad_token_id or 0
