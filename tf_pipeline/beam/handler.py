"""A RunInference model handler for tf_pipeline SavedModel exports, for any task.

Beam's ``TFModelHandlerTensor`` loads models with ``tf.keras.models.load_model``, which refuses a
SavedModel under Keras 3 (apache/beam#30616). This handler loads the export once per worker with
``tf.saved_model.load`` (tensorflow_text registered) through :class:`SavedModelPipeline`, and runs
batches of strings through it: the same answers as ``pipeline(model=export)``, one record per text
(the task's :meth:`~tf_pipeline.tasks.base.Task.records`).

Example:
    >>> from apache_beam.ml.inference.base import RunInference                   # doctest: +SKIP
    >>> texts | RunInference(ExportModelHandler("saved_models/sentiment"))       # doctest: +SKIP
    # PredictionResult(example="I love it", inference={"label": "POSITIVE", "score": 0.97, "probabilities": [...]})
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from apache_beam.ml.inference.base import ModelHandler, PredictionResult

from tf_pipeline.quiet import import_tensorflow
from tf_pipeline.tasks.inputs import ModelInput

if TYPE_CHECKING:
    from tf_pipeline.export.saved_model.runtime import SavedModelPipeline

MIN_BATCH_SIZE = 8  # Beam's BatchElements grows batches between these, timing each (docs/beam.md)
MAX_BATCH_SIZE = 64


class ExportModelHandler(ModelHandler[ModelInput, PredictionResult, "SavedModelPipeline"]):
    """Strings → the task's records (``{"label", "score", "probabilities"}``, ``{"embedding"}``, ...)
    with a SavedModel export (version or base folder)."""

    def __init__(self, export_dir: str | os.PathLike, *, min_batch_size: int = MIN_BATCH_SIZE,
                 max_batch_size: int = MAX_BATCH_SIZE, options: dict | None = None, **kwargs):
        super().__init__(min_batch_size=min(min_batch_size, max_batch_size), max_batch_size=max_batch_size, **kwargs)
        self.export_dir = str(export_dir)
        self.options = dict(options or {})  # the task's scoring arguments (Task.score_options)

    def load_model(self) -> SavedModelPipeline:
        """The export, loaded once per worker. TensorFlow is imported here, not when Beam unpickles the
        handler, and quietly when ``TF_CPP_MIN_LOG_LEVEL`` asks (:mod:`tf_pipeline.quiet`)."""
        import_tensorflow()
        from tf_pipeline.export.saved_model.runtime import SavedModelPipeline

        return SavedModelPipeline(self.export_dir)

    def run_inference(self, batch: Sequence[ModelInput], model: SavedModelPipeline,
                      inference_args: dict[str, Any] | None = None) -> Iterable[PredictionResult]:
        """Texts (or text pairs) must be non-blank strings (:func:`~tf_pipeline.tasks.inputs.check_text`);
        ``ScoreTexts`` sends the others to its error output before they get here."""
        for text, record in zip(batch, model.task.score(model, list(batch), self.options)):
            yield PredictionResult(text, record)

    def get_metrics_namespace(self) -> str:
        return "tf_pipeline"
