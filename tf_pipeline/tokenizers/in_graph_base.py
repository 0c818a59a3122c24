"""The in-graph tokenizer every family builds on: pieces → truncated, special tokens added, padded ids;
and the text steps the families share.

Example:
    >>> class MyTokenizer(InGraphTokenizer):
    ...     def pieces(self, texts): ...      # [batch, (ids)] without special tokens
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import tensorflow as tf

from tf_pipeline import errors

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


@dataclass(frozen=True)
class PairTemplate:
    """Where a tokenizer puts its special tokens around a text pair, and each segment's token type:
    ``prefix a middle b suffix`` (BERT: ``[CLS] a [SEP] b [SEP]``, types 0 0 0 1 1; RoBERTa and MPNet:
    ``<s> a </s></s> b </s>``)."""

    prefix: tuple[int, ...]
    middle: tuple[int, ...]
    suffix: tuple[int, ...]
    types: tuple[int, int, int, int, int]  # prefix, first text, middle, second text, suffix


def pair_template(tokenizer, content_id: int) -> PairTemplate | None:
    """The tokenizer's pair template, read from its own ``build_inputs_with_special_tokens`` and
    ``create_token_type_ids_from_sequences``; ``None`` if it has no clear one."""
    ids = list(tokenizer.build_inputs_with_special_tokens([content_id], [content_id]))
    types = list(tokenizer.create_token_type_ids_from_sequences([content_id], [content_id]))
    if ids.count(content_id) != 2 or len(types) != len(ids):
        return None
    first, second = ids.index(content_id), len(ids) - 1 - ids[::-1].index(content_id)
    bounds = ((0, first), (first, first + 1), (first + 1, second), (second, second + 1), (second + 1, len(ids)))
    if any(len(set(types[start:stop])) > 1 for start, stop in bounds):
        return None
    return PairTemplate(tuple(ids[:first]), tuple(ids[first + 1:second]), tuple(ids[second + 1:]),
                        tuple(types[start] if stop > start else 0 for start, stop in bounds))


def longest_first(first: tf.Tensor, second: tf.Tensor, budget: int) -> tuple[tf.Tensor, tf.Tensor]:
    """How many tokens each text of a pair keeps so both fit ``budget``, as HF's fast tokenizers
    truncate ``longest_first``: the longer text is cut down to the shorter one's length first, then
    both share the budget, the longer text (the second, when they are equally long) getting the odd token.

    Example:
        >>> [t.numpy().tolist() for t in longest_first(tf.constant([3, 20, 9, 9]), tf.constant([4, 5, 9, 12]), 10)]
        [[3, 5, 5, 5], [4, 5, 5, 5]]
    """
    shorter = tf.minimum(first, second)
    kept_longer = tf.where(shorter > budget, shorter, tf.maximum(shorter, budget - shorter))
    split = shorter + kept_longer > budget
    kept_shorter = tf.where(split, budget // 2, shorter)
    kept_longer = tf.where(split, budget // 2 + budget % 2, kept_longer)
    swapped = first > second
    fits = first + second <= budget
    return (tf.where(fits, first, tf.where(swapped, kept_longer, kept_shorter)),
            tf.where(fits, second, tf.where(swapped, kept_shorter, kept_longer)))


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

    def __init__(self, prefix_ids, suffix_ids, pad_id: int, max_length: int, pair: PairTemplate | None = None):
        super().__init__(name="in_graph_tokenizer")
        self.prefix_ids, self.suffix_ids, self.pad_id = tuple(prefix_ids), tuple(suffix_ids), pad_id
        self.max_length = max_length
        self.pair = pair

    def pieces(self, texts: tf.Tensor) -> tf.RaggedTensor:
        raise NotImplementedError

    def pair_pieces(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """:meth:`pieces` in full: ``longest_first`` needs each text's true length (a family that caps
        :meth:`pieces` at ``max_length`` overrides this)."""
        return self.pieces(texts)

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

    def pairs(self, texts: tf.Tensor, text_pairs: tf.Tensor) -> dict[str, tf.Tensor]:
        """Text pairs as ``tokenizer(texts, text_pairs, padding=True, truncation=True)`` gives them:
        the pair template, ``longest_first`` truncation (:func:`longest_first`), token types per segment.

        Raises:
            UnsupportedModelError: the tokenizer has no pair template.
        """
        if self.pair is None:
            raise errors.UnsupportedModelError("this tokenizer has no text-pair template in the graph.")
        template = self.pair
        budget = self.max_length - len(template.prefix) - len(template.middle) - len(template.suffix)
        first, second = self.pair_pieces(texts), self.pair_pieces(text_pairs)
        kept_first, kept_second = longest_first(tf.cast(first.row_lengths(), tf.int32),
                                                tf.cast(second.row_lengths(), tf.int32), budget)
        starts = [0, len(template.prefix)]  # where each segment starts, per row
        starts.append(starts[1] + kept_first[:, tf.newaxis])
        starts.append(starts[2] + len(template.middle))
        starts.append(starts[3] + kept_second[:, tf.newaxis])
        end = starts[4] + len(template.suffix)
        width = tf.reduce_max(tf.concat([end[:, 0], [0]], axis=0))
        positions = tf.range(width)[tf.newaxis, :]
        input_ids = tf.fill([tf.shape(texts)[0], width], self.pad_id)
        token_type_ids = tf.zeros_like(input_ids)
        segments = (tf.constant(template.prefix, tf.int32), first.to_tensor(self.pad_id, shape=[None, budget]),
                    tf.constant(template.middle, tf.int32), second.to_tensor(self.pad_id, shape=[None, budget]),
                    tf.constant(template.suffix, tf.int32))
        stops = starts[1:] + [end]
        for values, start, stop, type_id in zip(segments, starts, stops, template.types):
            if values.shape.rank == 1 and values.shape[0] == 0:
                continue
            inside = (positions >= start) & (positions < stop)
            index = tf.clip_by_value(positions - start, 0, tf.shape(values)[-1] - 1)
            if values.shape.rank == 2:  # a text's own ids, row by row
                picked = tf.gather(values, tf.broadcast_to(index, tf.shape(input_ids)), batch_dims=1)
            else:
                picked = tf.gather(values, index)
            input_ids = tf.where(inside, picked, input_ids)
            token_type_ids = tf.where(inside, type_id, token_type_ids)
        return {"input_ids": input_ids, "attention_mask": tf.cast(positions < end, tf.int32),
                "token_type_ids": token_type_ids}
