"""What every runner shares: the blank-text rule, the same in Python and in the graph."""

import tensorflow as tf

from tf_pipeline.tasks.inputs import has_text


def test_has_text_in_the_graph_is_python_strip_for_every_code_point():
    chars = [chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF]
    ours = has_text(tf.constant(chars)).numpy().tolist()
    wrong = [f"U+{ord(char):04X}" for char, answer in zip(chars, ours) if answer != bool(char.strip())]
    assert wrong == []
    texts = ["", " \t\n\r\x0b\x0c\x1c\x85\u2028\u3000", " a ", "\u200b", "x"]
    assert has_text(tf.constant(texts)).numpy().tolist() == [bool(text.strip()) for text in texts]
