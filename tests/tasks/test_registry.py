"""The task registry: HF's names and aliases, inference from a checkpoint, clear errors."""

import pytest
from transformers import BertConfig

import tf_pipeline
from tf_pipeline import InvalidInputError
from tf_pipeline.tasks import ALIASES, NOT_YET, TASKS, infer_task, task_class, task_name, task_names
from tf_pipeline.tasks.base import Task


def test_names_aliases_and_classes():
    assert task_name("sentiment-analysis") == "text-classification"
    assert set(task_names()) == set(TASKS) | set(ALIASES)
    for name in TASKS:
        cls = task_class(name)
        assert issubclass(cls, Task) and cls.name == name
        assert cls.model_class.startswith("TFAutoModel")


@pytest.mark.parametrize("name", NOT_YET)
def test_hf_tasks_still_to_come_say_so(name):
    with pytest.raises(InvalidInputError, match="no .* task yet"):
        task_name(name)


def test_unknown_tasks_and_non_strings_are_refused():
    with pytest.raises(InvalidInputError, match="unknown task 'sentimnet-analysis'"):
        task_name("sentimnet-analysis")
    with pytest.raises(InvalidInputError, match="a string"):
        task_name(3)


def test_the_task_is_inferred_from_the_config_and_the_folder(tmp_path):
    assert infer_task(BertConfig(architectures=["BertForSequenceClassification"])) == "text-classification"
    assert infer_task(BertConfig(architectures=["BertModel"])) == "feature-extraction"
    assert infer_task(BertConfig()) == "text-classification"  # no architectures named
    (tmp_path / "modules.json").write_text('[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]')
    assert infer_task(BertConfig(architectures=["BertModel"]), tmp_path) == "sentence-embeddings"
    with pytest.raises(InvalidInputError, match="BertForMaskedLM"):
        infer_task(BertConfig(architectures=["BertForMaskedLM"]))


def test_settings_round_trip_through_metadata():
    for task in (task_class("text-classification")(labels=("a", "b"), function_to_apply="sigmoid"),
                 task_class("feature-extraction")(hidden_size=8),
                 task_class("sentence-embeddings")(pooling=("cls", "mean"), normalize=True, dimension=8, max_seq_length=16)):
        assert type(task).from_settings(task.settings()) == task


def test_the_package_lists_its_public_names():
    names = dir(tf_pipeline)
    for name in ("pipeline", "load_pipeline", "Runner", "GraphPipeline", "export_saved_model", "convert_to_tflite"):
        assert name in names
    assert callable(tf_pipeline.pipeline)


def test_pipeline_needs_a_task_or_a_model_and_checks_options():
    with pytest.raises(InvalidInputError, match="needs a task, a model"):
        tf_pipeline.pipeline()
    with pytest.raises(InvalidInputError, match="framework"):
        tf_pipeline.pipeline("text-classification", framework="pt")
