"""TF Serving's configuration files: ``models.config`` for several models and versions, and batching.

Example:
    >>> text = model_config_text(["saved_models/sentiment"], base_path_prefix="/models")  # doctest: +SKIP
    >>> write_text_atomically("saved_models/models.config", text)  # doctest: +SKIP
    >>> write_text_atomically("saved_models/batching.config", batching_config_text())  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from tf_pipeline import errors
from tf_pipeline.export.layout import version_numbers

# Batches of up to 32, a 2 ms wait, one batch thread: chosen by measurement (docs/benchmark.md,
# "TF Serving batching"). pad_variable_length_inputs stays false: TF Serving pads with each tensor's
# first element ([CLS], mask 1), which would silently change predict_ids answers (docs/serving.md).
BATCHING = {
    "max_batch_size": 32,
    "batch_timeout_micros": 2000,
    "max_enqueued_batches": 100,
    "num_batch_threads": 1,
    "pad_variable_length_inputs": False,
}


def model_config_text(model_dirs: Sequence[str | os.PathLike], *, versions: str = "latest",
                      base_path_prefix: str | None = None) -> str:
    """``model_config_list`` text proto: one entry per export folder (``saved_models/NAME``).

    ``versions``: "latest" (TF Serving's default: the highest version), "all", or numbers "1,3".
    ``base_path_prefix``: where the folders are inside the server (e.g. "/models" in Docker);
    default: their absolute paths here.
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2 as config_pb2

    server_config = config_pb2.ModelServerConfig()
    for model_dir in model_dirs:
        path = Path(model_dir)
        numbered = version_numbers(path)
        if not numbered and (path / "saved_model.pb").is_file():
            raise errors.InvalidInputError(
                f"{path} is a version folder; TF Serving's config names the model's base folder, its parent "
                f"({path.parent}).")
        if not numbered:
            raise errors.CheckpointNotFoundError(f"{path} has no numbered version folders; export a model there first.")
        entry = server_config.model_config_list.config.add(
            name=path.name,
            base_path=f"{base_path_prefix.rstrip('/')}/{path.name}" if base_path_prefix else str(path.resolve()),
            model_platform="tensorflow",
        )
        _set_version_policy(entry.model_version_policy, versions, numbered, path)
    return text_format.MessageToString(server_config)


def _set_version_policy(policy, versions: str, numbered: list[int], path: Path) -> None:
    if versions == "latest":
        policy.latest.num_versions = 1
    elif versions == "all":
        policy.all.SetInParent()
    else:
        try:
            wanted = [int(number) for number in versions.split(",")]
        except ValueError:
            raise errors.InvalidInputError(f"versions must be 'latest', 'all' or numbers like '1,2', got {versions!r}.") from None
        missing = sorted(set(wanted) - set(numbered))
        if missing:
            raise errors.InvalidInputError(f"{path} has no version {missing}; it has {numbered}.")
        policy.specific.versions.extend(wanted)


def batching_config_text(**overrides) -> str:
    """TF Serving's ``--batching_parameters_file`` content (BatchingParameters text proto)."""
    settings = {**BATCHING, **overrides}
    lines = []
    for key, value in settings.items():
        rendered = str(value).lower() if isinstance(value, bool) else value
        lines.append(f"{key} {{ value: {rendered} }}")
    return "\n".join(lines) + "\n"


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    """Write beside the target and rename, so a server re-reading the file never sees half of it."""
    from tf_pipeline.atomic import atomic_file

    with atomic_file(Path(path)) as file:
        file.write(text)
    return Path(path)
