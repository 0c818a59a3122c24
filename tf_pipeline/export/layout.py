"""Where things are inside a SavedModel export: numbered version folders, the metadata, the
tokenizer and config it carries.

``NAME/<version>/`` holds ``saved_model.pb``, ``variables/``, ``assets/tokenizer/`` (the HF
tokenizer files and ``config.json``) and ``assets.extra/`` (``tf_pipeline.json``, warm-up requests).

Example:
    >>> latest_version_dir("saved_models/sentiment")
    PosixPath('saved_models/sentiment/3')
"""

from __future__ import annotations

import os
from pathlib import Path

from tf_pipeline import errors
from tf_pipeline.export.metadata import ExportMetadata

METADATA_FILE = "tf_pipeline.json"
WARMUP_FILE = "tf_serving_warmup_requests"
TOKENIZER_DIR = Path("assets") / "tokenizer"


def version_numbers(base_dir: str | os.PathLike) -> list[int]:
    """The numbered version folders under ``base_dir``, sorted (none if it does not exist)."""
    base = Path(base_dir)
    return sorted(int(path.name) for path in base.iterdir() if path.name.isdigit()) if base.is_dir() else []


def is_export(folder: str | os.PathLike) -> bool:
    """A version folder (``saved_model.pb``) or a base folder holding numbered versions."""
    folder = Path(folder)
    return (folder / "saved_model.pb").is_file() or any(
        (folder / str(number) / "saved_model.pb").is_file() for number in version_numbers(folder))


def latest_version_dir(folder: str | os.PathLike) -> Path:
    """``folder`` itself if it is a version folder, else its highest numbered version."""
    folder = Path(folder)
    if (folder / "saved_model.pb").is_file():
        return folder
    numbers = [number for number in version_numbers(folder) if (folder / str(number) / "saved_model.pb").is_file()]
    if not numbers:
        raise errors.CheckpointNotFoundError(
            f"{folder} is not a SavedModel export: no saved_model.pb in it or in a numbered version folder."
        )
    return folder / str(numbers[-1])


def read_metadata(export_dir: str | os.PathLike) -> ExportMetadata:
    """The metadata of a tf_pipeline version folder."""
    export_dir = Path(export_dir)
    path = export_dir / "assets.extra" / METADATA_FILE
    if not (export_dir / "saved_model.pb").is_file() or not path.is_file():
        raise errors.CheckpointNotFoundError(
            f"{export_dir} is not a tf_pipeline export version folder (expected saved_model.pb and "
            f"assets.extra/{METADATA_FILE}); pass e.g. saved_models/NAME/1."
        )
    return ExportMetadata.from_json(path.read_text(encoding="utf-8"), str(path))


def load_export_tokenizer(export_dir: str | os.PathLike):
    """The HF tokenizer an export carries in ``assets/tokenizer/``."""
    from tf_pipeline.checkpoints.loading import load_tokenizer

    folder = Path(export_dir) / TOKENIZER_DIR
    if not folder.is_dir():
        raise errors.TokenizerNotFoundError(
            f"{export_dir} carries no tokenizer (written before exports stood alone); export it again."
        )
    return load_tokenizer(folder)
