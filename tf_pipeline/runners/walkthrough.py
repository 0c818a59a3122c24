"""The seed's walk-through: each step of the pipeline on two sentences, with what it produces.

Example:
    >>> print(walkthrough(load_pipeline()))   # doctest: +SKIP
    Step 1 — tokenizer(texts, padding=True, truncation=True, return_tensors="tf")
    ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tf_pipeline import errors
from tf_pipeline.runners.graph import GraphPipeline
from tf_pipeline.tasks.inputs import validate_texts
from tf_pipeline.tasks.text_classification import numpy_scores

SEED_SENTENCES = (
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
)

_FUNCTION_CODE = {"softmax": "tf.nn.softmax(logits)", "sigmoid": "tf.nn.sigmoid(logits)", "none": "logits as they are"}


@dataclass(frozen=True)
class Walkthrough:
    """What each step produced; ``str()`` renders it for people."""

    texts: list[str]
    inputs: dict[str, np.ndarray]
    hidden_state_shape: tuple[int, ...]
    logits: np.ndarray
    probabilities: np.ndarray
    labels: list[str]
    function_to_apply: str
    source: str

    def __str__(self) -> str:
        lines = [f"Model: {self.source}", "", 'Step 1 — tokenizer(texts, padding=True, truncation=True, return_tensors="tf")']
        for index, text in enumerate(self.texts):
            lines.append(f"  text {index}: {text!r}")
            for name, values in self.inputs.items():
                lines.append(f"    {name}: {values[index].tolist()}")
        lines += [
            "",
            "Step 2 — TFAutoModelForSequenceClassification(**inputs)",
            f"  last hidden state shape: {list(self.hidden_state_shape)}  (batch, tokens, hidden size)",
            f"  logits shape: {list(self.logits.shape)}  (batch, labels)",
            f"  logits: {_matrix(self.logits)}",
            "",
            f"Step 3 — {_FUNCTION_CODE[self.function_to_apply]} and config.id2label",
            f"  probabilities: {_matrix(self.probabilities)}",
            f"  id2label: {dict(enumerate(self.labels))}",
        ]
        for text, row in zip(self.texts, self.probabilities):
            best = int(np.argmax(row))
            lines.append(f"  {text!r} → {self.labels[best]} ({row[best]:.4f})")
        return "\n".join(lines)


def _matrix(values: np.ndarray) -> str:
    return np.array2string(values, precision=4, separator=", ", suppress_small=True).replace("\n", "")


def walkthrough(pipe: GraphPipeline, texts: Sequence[str] = SEED_SENTENCES) -> Walkthrough:
    """Run the three steps one by one on ``texts`` and keep every intermediate result.

    Args:
        pipe: a text-classification :class:`GraphPipeline` (the default model, say).
        texts: what to walk through (default: the seed's two sentences).

    Returns:
        A :class:`Walkthrough`; ``print()`` it.

    Raises:
        InvalidInputError: ``pipe`` is not a text classifier, or a text is not usable.
    """
    if pipe.task.name != "text-classification":
        raise errors.InvalidInputError(f"the walk-through shows text classification's steps; {pipe.source} is "
                                       f"loaded for {pipe.task.name}.")
    batch = validate_texts(list(texts))
    inputs = pipe.preprocess(batch)
    outputs = pipe.model({name: inputs[name] for name in pipe.input_names}, output_hidden_states=True, training=False)
    logits = pipe.forward(inputs)["logits"]
    function = pipe.task.function_to_apply
    return Walkthrough(
        texts=batch,
        inputs={name: tensor.numpy() for name, tensor in inputs.items()},
        hidden_state_shape=tuple(outputs.hidden_states[-1].shape),
        logits=logits,
        probabilities=numpy_scores(logits, function),
        labels=list(pipe.task.labels),
        function_to_apply=function,
        source=pipe.source,
    )
