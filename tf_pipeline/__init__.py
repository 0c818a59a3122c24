"""tf_pipeline: Hugging Face's pipelines as one TensorFlow graph, for TF Serving, TFLite and Beam.

Example:
    >>> from tf_pipeline import pipeline, export_saved_model
    >>> pipe = pipeline("sentiment-analysis")              # the embedded default model  # doctest: +SKIP
    >>> pipe(["I hate this so much!"])                                                   # doctest: +SKIP
    [{'label': 'NEGATIVE', 'score': ...}]
    >>> export_saved_model(pipe, "saved_models/sentiment")                               # doctest: +SKIP

Names are imported on first use, so ``import tf_pipeline`` stays light until TensorFlow is needed.
The layers, from the top: ``cli`` → ``api`` → ``benchmark``, ``beam`` → ``export``, ``training`` →
``runners`` → ``checkpoints``, ``tokenizers`` → ``tasks`` → ``errors`` (docs/architecture.md).
"""

from importlib import import_module

_EXPORTS = {
    "pipeline": "api",
    "load_pipeline": "api",
    "Runner": "pipeline.base",
    "GraphPipeline": "pipeline.graph",
    "TextClassificationPipeline": "pipeline.graph",
    "task_names": "tasks",
    "load_checkpoint": "checkpoints.loading",
    "Checkpoint": "checkpoints.loading",
    "walkthrough": "pipeline.walkthrough",
    "export_saved_model": "export.saved_model.export",
    "SavedModelPipeline": "export.saved_model.runtime",
    "verify_export": "export.saved_model.verify",
    "convert_to_tflite": "export.tflite.convert",
    "TFLitePipeline": "export.tflite.runtime",
    "ExportMetadata": "export.metadata",
    "finetune": "training.finetune",
    "Recipe": "training.recipe",
    "evaluate": "training.evaluate",
    "sentiment_set": "training.data",
    "read_labelled": "training.data",
    "ensure_default_model": "training.default_model",
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


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tf_pipeline' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
