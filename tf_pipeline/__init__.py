"""tf_pipeline: Hugging Face's text-classification pipeline as one TensorFlow graph.

Example:
    >>> from tf_pipeline import load_pipeline, export_saved_model, convert_to_tflite
    >>> pipe = load_pipeline()                 # the embedded default model
    >>> pipe(["I hate this so much!"])
    [{'label': 'NEGATIVE', 'score': ...}]
    >>> export_saved_model(pipe, "saved_models/sentiment")

Names are imported on first use, so ``import tf_pipeline`` stays light until TensorFlow is needed.
The layers, from the top: ``cli`` → ``api`` → ``benchmark``, ``export``, ``training`` → ``pipeline``
→ ``checkpoints``, ``tokenizers`` → ``errors`` (docs/architecture.md).
"""

from importlib import import_module

_EXPORTS = {
    "load_pipeline": "api",
    "TextClassificationPipeline": "pipeline.text_classification",
    "load_checkpoint": "checkpoints.loading",
    "Checkpoint": "checkpoints.loading",
    "walkthrough": "pipeline.walkthrough",
    "export_saved_model": "export.saved_model",
    "SavedModelPipeline": "export.saved_model_runtime",
    "verify_export": "export.verify",
    "convert_to_tflite": "export.tflite_convert",
    "TFLitePipeline": "export.tflite_runtime",
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


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tf_pipeline' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
