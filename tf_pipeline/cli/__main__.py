"""``python -m tf_pipeline.cli``: the same as ``tf-pipeline``."""

from tf_pipeline.cli import run

run()
