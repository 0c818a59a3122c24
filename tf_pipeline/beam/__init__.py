"""Scoring any number of texts on Apache Beam (Dataflow, Flink, Spark, DirectRunner) with an export.

``handler.ExportModelHandler`` is a RunInference model handler for tf_pipeline SavedModel exports;
``transforms`` holds ``ReadTexts``, ``ScoreTexts`` and ``score_files`` (what ``tf-pipeline score`` runs).
Needs the ``[beam]`` extra (``pip install "tf_pipeline[beam]"``). This module imports no Beam, so the
command line can offer :data:`FORMATS` cheaply.
"""

FORMATS = ("jsonl", "csv", "parquet")  # what score writes: one record per text
