"""tf_pipeline: Hugging Face's text-classification pipeline as one TensorFlow graph.

Example:
    >>> from tf_pipeline import load_pipeline
    >>> pipe = load_pipeline()                 # the embedded default model
    >>> pipe(["I hate this so much!"])
    [{'label': ..., 'score': ...}]

Names are imported on first use, so ``import tf_pipeline`` stays light until
TensorFlow is needed.
"""

from importlib import import_module

_EXPORTS = {
    "load_pipeline": "pipeline",
    "TextClassificationPipeline": "pipeline",
    "load_checkpoint": "checkpoint",
    "Checkpoint": "checkpoint",
    "walkthrough": "walkthrough",
    "TFPipelineError": "errors",
    "CheckpointError": "errors",
    "CheckpointNotFoundError": "errors",
    "WeightsNotFoundError": "errors",
    "BrokenCheckpointError": "errors",
    "UnsupportedModelError": "errors",
    "TokenizerNotFoundError": "errors",
    "HubUnreachableError": "errors",
    "InvalidInputError": "errors",
    "UntrainedHeadWarning": "errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tf_pipeline' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
