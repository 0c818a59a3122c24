"""The Hugging Face tokenizer call, defined once: what every runner that tokenizes in Python uses.

Example:
    >>> encode(tokenizer, ["I hate this so much!"], max_length=128, return_tensors="np")["input_ids"]  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from tf_pipeline.tasks.inputs import ModelInput, TextPair


def encode(tokenizer, texts: Sequence[ModelInput], max_length: int, return_tensors: str | None = "tf",
           padding: bool = True) -> dict:
    """Token ids like HF's pipeline: padded to the longest text, truncated to ``max_length``.

    A :class:`~tf_pipeline.tasks.inputs.TextPair` is tokenized as ``tokenizer(text, text_pair)``
    (the pair template, ``token_type_ids`` 1 on the second text, ``longest_first`` truncation).
    ``padding=False`` (with ``return_tensors=None``): one unpadded list of ids per text.
    """
    texts = list(texts)
    pairs = [index for index, text in enumerate(texts) if isinstance(text, TextPair)]
    if not pairs:
        return dict(tokenizer(texts, padding=padding, truncation=True, max_length=max_length,
                              return_tensors=return_tensors))
    # The tokenizer takes texts or pairs per call, not both: each kind unpadded, then rows in input order.
    singles = [index for index, text in enumerate(texts) if not isinstance(text, TextPair)]
    columns: dict[str, list] = {}
    for indices, arguments in ((singles, ([texts[i] for i in singles],)),
                               (pairs, ([texts[i].text for i in pairs], [texts[i].text_pair for i in pairs]))):
        if not indices:
            continue
        encoded = tokenizer(*arguments, truncation=True, max_length=max_length)
        for name, rows in encoded.items():
            column = columns.setdefault(name, [None] * len(texts))
            for index, row in zip(indices, rows):
                column[index] = row
    if not padding:
        return columns
    padded = pad_rows(columns, range(len(texts)), pad_values(tokenizer), tokenizer.padding_side)
    if return_tensors == "tf":
        import tensorflow as tf

        return {name: tf.constant(values) for name, values in padded.items()}
    return padded


def pad_id(tokenizer) -> int:
    """The id that fills padded slots (0 when the tokenizer has no pad token)."""
    return tokenizer.pad_token_id or 0


def pad_values(tokenizer) -> dict[str, int]:
    """What the HF tokenizer fills padded slots with, per model input."""
    return {"input_ids": pad_id(tokenizer), "attention_mask": 0,
            "token_type_ids": getattr(tokenizer, "pad_token_type_id", 0)}


def token_sorted_batches(tokenizer, texts: Sequence[str], batch_size: int, max_length: int,
                         input_names: Sequence[str]) -> Iterator[tuple[list[int], dict[str, np.ndarray]]]:
    """``texts`` in batches of similar token count: (their indices in ``texts``, int32 ids padded to
    the batch's longest text, as :func:`encode` pads them).

    One tokenizer call for all texts, without padding, then NumPy padding per batch. Sorting by
    token count pads less than sorting by characters (docs/benchmark.md).

    Example:
        >>> [indices for indices, _ in token_sorted_batches(tokenizer, ["a long text", "hi", "mid text"], 2,  # doctest: +SKIP
        ...                                                 128, ["input_ids", "attention_mask"])]
        [[1, 2], [0]]
    """
    encoded = encode(tokenizer, texts, max_length, return_tensors=None, padding=False)
    columns = {name: encoded[name] for name in input_names}
    lengths = [len(ids) for ids in columns[input_names[0]]]
    order = sorted(range(len(texts)), key=lengths.__getitem__)
    fill = pad_values(tokenizer)
    for start in range(0, len(texts), batch_size):
        indices = order[start:start + batch_size]
        yield indices, pad_rows(columns, indices, fill, tokenizer.padding_side)


def pad_rows(columns: dict[str, Sequence[Sequence[int]]], indices: Sequence[int], pad_values: dict[str, int],
             side: str = "right") -> dict[str, np.ndarray]:
    """The rows ``indices`` of unpadded token-id lists as int32 arrays padded to the longest of them,
    as the HF tokenizer pads (``pad_values`` per input, on ``side``).

    Example:
        >>> pad_rows({"input_ids": [[101, 7, 102], [101, 102]]}, [1, 0], {"input_ids": 0})["input_ids"]
        array([[101, 102,   0],
               [101,   7, 102]], dtype=int32)
    """
    width = max(len(columns[next(iter(columns))][index]) for index in indices)
    padded = {}
    for name, rows in columns.items():
        array = np.full((len(indices), width), pad_values.get(name, 0), np.int32)
        for row, index in enumerate(indices):
            ids = rows[index]
            if side == "left":
                array[row, width - len(ids):] = ids
            else:
                array[row, :len(ids)] = ids
        padded[name] = array
    return padded
