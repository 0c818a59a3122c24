"""What every task accepts as text: checks that name the bad item, in Python and in the graph.

A model input is a text, or for tasks that read two (text classification: NLI, paraphrase,
query–passage rerankers) a :class:`TextPair`, given in HF's forms: ``{"text": a, "text_pair": b}``
(``{"text": a}`` alone is a single text) or, inside a list, the legacy ``[[a, b]]``.

Example:
    >>> validate_texts(["good", "bad"])
    ['good', 'bad']
    >>> validate_inputs([{"text": "a cat", "text_pair": "an animal"}, [["a", "b"]], "plain"], pairs=True)
    [TextPair(text='a cat', text_pair='an animal'), TextPair(text='a', text_pair='b'), 'plain']
    >>> check_text("line 4", "   ")
    Traceback (most recent call last):
    ...
    tf_pipeline.errors.InvalidInputError: line 4 is empty or only whitespace; there is nothing to read in it.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Union

from tf_pipeline import errors

# What Python's str.isspace() calls whitespace, for RE2 (whose \s is ASCII only).
WHITESPACE = r"[\p{Z}\t\n\x{0b}\f\r\x{1c}-\x{1f}\x{85}]"


class TextPair(NamedTuple):
    """Two texts read together (``tokenizer(text, text_pair)``: ``[CLS] a [SEP] b [SEP]``, ``<s> a </s></s> b </s>``)."""

    text: str
    text_pair: str


ModelInput = Union[str, TextPair]
PAIR_HINT = ('to send a text pair, give a dict {"text": "My text", "text_pair": "My pair"} '
             '(a list of them for several pairs)')


def is_positive_int(value: Any) -> bool:
    """An ``int`` (not a bool) of at least 1.

    Example:
        >>> is_positive_int(3), is_positive_int(0), is_positive_int(True)
        (True, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def is_stream(inputs: Any) -> bool:
    """A generator or other one-pass iterable of inputs (not a string, list, tuple or dict), answered lazily.

    Example:
        >>> is_stream(text for text in ["a"]), is_stream(["a"]), is_stream("a")
        (True, False, False)
    """
    return not isinstance(inputs, (str, bytes, list, tuple, dict)) and hasattr(inputs, "__iter__")


def validate_texts(texts: Any) -> list[str]:
    """A list of non-empty strings, or :class:`InvalidInputError` naming the bad item.

    Args:
        texts: a string or a list (or tuple) of strings.

    Returns:
        The texts as a list (a single string becomes a one-item list).

    Raises:
        InvalidInputError: ``texts`` is of another type, or an item is not a usable text.

    Example:
        >>> validate_texts("one")
        ['one']
    """
    return validate_inputs(texts, pairs=False)


def has_pairs(items: list[ModelInput]) -> bool:
    """Whether any of ``items`` is a :class:`TextPair`."""
    return any(isinstance(item, TextPair) for item in items)


def characters(item: ModelInput) -> int:
    """How long an input is in characters (both texts of a pair), for sorting by length.

    Example:
        >>> characters("four"), characters(TextPair("ab", "cde"))
        (4, 5)
    """
    return len(item.text) + len(item.text_pair) if isinstance(item, TextPair) else len(item)


def validate_inputs(inputs: Any, *, pairs: bool) -> list[ModelInput]:
    """:func:`validate_texts`, and with ``pairs`` HF's text-pair forms too (see the module docstring).

    Args:
        inputs: a text or a pair (dict), or a list (or tuple) of them.
        pairs: whether the task reads text pairs.

    Returns:
        One text or :class:`TextPair` per input.

    Raises:
        InvalidInputError: naming the bad item, and for a ``[a, b]`` item how to send a pair.
    """
    if isinstance(inputs, (str, dict)):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)):
        kinds = ("a string or a list of them, or text pairs as {'text', 'text_pair'} dicts" if pairs
                 else "a string or a list of strings")
        raise errors.InvalidInputError(f"texts must be {kinds}, got {type(inputs).__name__}.")
    return [check_input(index, item, pairs=pairs) for index, item in enumerate(inputs)]


def check_input(index: int | str, item: Any, *, pairs: bool) -> ModelInput:
    """One model input, checked: :func:`check_text`, or (with ``pairs``) a :class:`TextPair` from HF's forms.

    Example:
        >>> check_input(0, {"text": "a", "text_pair": "b"}, pairs=True)
        TextPair(text='a', text_pair='b')
        >>> check_input(0, {"text": "a"}, pairs=True)
        'a'
    """
    if isinstance(item, str):
        return check_text(index, item)
    where = f"input {index}" if isinstance(index, int) else index
    if not pairs:
        if isinstance(item, (TextPair, dict)):
            raise errors.InvalidInputError(f"{where} is a text pair, but this task reads one text per input "
                                           "(text pairs are for text classification).")
        return check_text(index, item)
    if isinstance(item, TextPair):
        return check_pair(where, item.text, item.text_pair)
    if isinstance(item, dict):
        unknown = sorted(str(key) for key in item if key not in ("text", "text_pair"))
        if unknown or "text" not in item:
            raise errors.InvalidInputError(f"{where} must have the key 'text' and may have 'text_pair' "
                                           f"(got keys {sorted(map(str, item))}).")
        if "text_pair" not in item:  # HF: the tokenizer called with text= alone
            return check_text(f"{where} (text)", item["text"])
        return check_pair(where, item["text"], item["text_pair"])
    if isinstance(item, list) and len(item) == 1 and isinstance(item[0], list) and len(item[0]) == 2:
        return check_input(index, {"text": item[0][0], "text_pair": item[0][1]}, pairs=True)  # HF's legacy [[a, b]]
    if isinstance(item, (list, tuple)):
        raise errors.InvalidInputError(f"{where} is a {type(item).__name__}, not a text; {PAIR_HINT}.")
    return check_text(index, item)


def check_pair(where: str, text: Any, text_pair: Any) -> TextPair:
    """Both texts checked (:func:`check_text`, named ``where (text)`` and ``where (text_pair)``)."""
    return TextPair(check_text(f"{where} (text)", text), check_text(f"{where} (text_pair)", text_pair))


def check_text(index: int | str, text: Any) -> str:
    """``text`` itself if it is a non-blank string; otherwise an error naming it (``text 3``, ``line 4``).

    Args:
        index: the item's position in its batch, or a description such as ``"line 4 of a.txt"``.
        text: what was given.

    Returns:
        ``text``, unchanged.

    Raises:
        InvalidInputError: not a string, empty or only whitespace, or not valid Unicode.

    Example:
        >>> check_text(0, "fine")
        'fine'
        >>> check_text(2, 7)
        Traceback (most recent call last):
        ...
        tf_pipeline.errors.InvalidInputError: text 2 is not a string (got int).
    """
    where = f"text {index}" if isinstance(index, int) else index
    if not isinstance(text, str):
        raise errors.InvalidInputError(f"{where} is not a string (got {type(text).__name__}).")
    if not text.strip():
        raise errors.InvalidInputError(f"{where} is empty or only whitespace; there is nothing to read in it.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, e.g. from JSON's "\ud800"
        raise errors.InvalidInputError(f"{where} is not valid Unicode ({error.reason} at character {error.start}).") from None
    return text


def has_text(texts):
    """In the graph, which strings :func:`check_text` accepts: not empty and not only whitespace.

    Example:
        >>> import tensorflow as tf
        >>> has_text(tf.constant(["good", " \\u3000", ""])).numpy()
        array([ True, False, False])
    """
    import tensorflow as tf

    return tf.logical_not(tf.strings.regex_full_match(texts, WHITESPACE + "*"))
