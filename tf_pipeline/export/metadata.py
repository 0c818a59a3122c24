"""One metadata schema for every export (SavedModel and TFLite), versioned, to and from JSON.

A SavedModel keeps it in ``assets.extra/tf_pipeline.json``; a .tflite file in the zip appended to
it (see :mod:`tf_pipeline.export.tflite.convert`). Files written before the schema had a version
(SavedModel: nested ``versions``; TFLite: a flat ``.tflite.json`` beside the model) still read.

Example:
    >>> metadata = ExportMetadata.from_json(path.read_text())          # doctest: +SKIP
    >>> metadata.task, metadata.task_settings["labels"], metadata.text_in, metadata.max_length   # doctest: +SKIP
    ('text-classification', ['NEGATIVE', 'POSITIVE'], True, 512)
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field, fields

from tf_pipeline import errors

SCHEMA_VERSION = 3  # 3: the task and its settings; 2: versioned, text classification only


@dataclass(frozen=True)
class ExportMetadata:
    """What a client needs to use an export, and where it came from.

    ``task`` and ``task_settings`` rebuild the task the export answers
    (:meth:`~tf_pipeline.tasks.base.Task.from_settings`: its labels, pooling, ...). ``text_in``:
    the export takes raw strings (tokenizer in the graph); otherwise token ids, made with the
    tokenizer the export carries. ``source`` is provenance only: nothing reads it to load.
    """

    format: str  # "saved_model" or "tflite"
    task: str
    task_settings: dict
    max_length: int
    input_names: list[str]
    text_in: bool
    model_type: str = ""
    source: str = ""
    signatures: list[str] = field(default_factory=list)  # SavedModel
    version: int | None = None  # SavedModel version folder
    quantize: str | None = None  # TFLite
    libraries: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, where: str = "metadata") -> "ExportMetadata":
        """Read any schema version (older ones as text classification); unknown keys (from newer writers) are ignored."""
        try:
            data = json.loads(text)
            if "schema_version" not in data:
                data = _from_unversioned(data)
            if "task" not in data:  # before schema 3: text classification
                data = {**data, "task": "text-classification",
                        "task_settings": {"labels": data["labels"], "function_to_apply": data["function_to_apply"]}}
            known = {item.name for item in fields(cls)}
            return cls(**{key: value for key, value in data.items() if key in known})
        except (ValueError, TypeError, KeyError) as error:
            raise errors.BrokenCheckpointError(f"{where} is not valid tf_pipeline metadata: {error}") from error

    def make_task(self):
        """The :class:`~tf_pipeline.tasks.base.Task` this export answers, with its settings."""
        from tf_pipeline.tasks import task_class

        return task_class(self.task).from_settings(self.task_settings)


def _from_unversioned(data: dict) -> dict:
    """The two layouts before schema 2: SavedModel (nested ``versions``) and TFLite (flat, ``flavour``)."""
    if "flavour" in data:  # TFLite sidecar
        return {**data, "format": "tflite", "text_in": data["flavour"] == "strings",
                "libraries": {"tensorflow": data.get("tensorflow", "")}, "schema_version": 1}
    return {**data, "format": "saved_model", "text_in": data["in_graph_tokenizer"],
            "libraries": data.get("versions", {}), "schema_version": 1}


def library_versions() -> dict[str, str]:
    """The versions of what wrote an export."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for name, distribution in (("tf_pipeline", "tf_pipeline"), ("tensorflow", "tensorflow"),
                               ("tensorflow_text", "tensorflow-text"), ("transformers", "transformers")):
        try:
            versions[name] = version(distribution)
        except PackageNotFoundError:
            versions[name] = "unknown"
    return versions
