"""What every task accepts as text: checks that name the bad item, in Python and in the graph.

Example:
    >>> validate_texts(["good", "bad"])
    ['good', 'bad']
    >>> check_text("line 4", "   ")
    Traceback (most recent call last):
    ...
    tf_pipeline.errors.InvalidInputError: line 4 is empty or only whitespace; there is nothing to read in it.
"""

from __future__ import annotations

from typing import Any

from tf_pipeline import errors

# What Python's str.isspace() calls whitespace, for RE2 (whose \s is ASCII only).
WHITESPACE = r"[\p{Z}\t\n\x{0b}\f\r\x{1c}-\x{1f}\x{85}]"


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
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)):
        raise errors.InvalidInputError(
            f"texts must be a string or a list of strings, got {type(texts).__name__}."
        )
    return [check_text(index, text) for index, text in enumerate(texts)]


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
