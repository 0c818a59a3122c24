"""Scoring any number of texts on Apache Beam (Dataflow, Flink, Spark, DirectRunner) with an export.

``handler.ExportModelHandler`` is a RunInference model handler for tf_pipeline SavedModel exports;
``transforms`` holds ``ReadTexts``, ``ClassifyTexts`` and ``score_files`` (what ``tf-pipeline score`` runs).
Needs the ``[beam]`` extra (``pip install "tf_pipeline[beam]"``).
"""
