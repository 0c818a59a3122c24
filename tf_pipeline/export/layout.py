"""Where things are inside a SavedModel export: numbered version folders, the metadata, the
tokenizer and config it carries.

``NAME/<version>/`` holds ``saved_model.pb``, ``variables/``, ``assets/tokenizer/`` (the HF
tokenizer files and ``config.json``) and ``assets.extra/`` (``tf_pipeline.json``, warm-up requests).

Paths may be local or anything TensorFlow's file systems read (``gs://bucket/models/sentiment``).

Example:
    >>> latest_version_dir("saved_models/sentiment")  # doctest: +SKIP
    PosixPath('saved_models/sentiment/3')
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tf_pipeline import errors
from tf_pipeline.export.metadata import ExportMetadata

METADATA_FILE = "tf_pipeline.json"
WARMUP_FILE = "tf_serving_warmup_requests"
TOKENIZER_DIR = Path("assets") / "tokenizer"
PAIRS_SIGNATURE = "serving_pairs"  # text and text_pair in, for tasks that read pairs


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def as_path(location: str | os.PathLike) -> Path | str:
    """A local path as a Path; a remote one (``gs://…``, anything with ``://``) kept as a string."""
    text = str(location)
    return text.rstrip("/") if "://" in text else Path(text)


def join(location: Path | str, *parts: str) -> Path | str:
    return "/".join([location, *parts]) if isinstance(location, str) else location.joinpath(*parts)


def version_numbers(base_dir: str | os.PathLike) -> list[int]:
    """The numbered version folders under ``base_dir`` (local or remote), sorted; none if it does not exist."""
    gfile, base = _gfile(), as_path(base_dir)
    if not gfile.isdir(str(base)):
        return []
    return sorted(int(name.rstrip("/")) for name in gfile.listdir(str(base)) if name.rstrip("/").isdigit())


def is_export(folder: str | os.PathLike) -> bool:
    """A version folder (``saved_model.pb``) or a base folder holding numbered versions."""
    gfile, folder = _gfile(), as_path(folder)
    return gfile.exists(str(join(folder, "saved_model.pb"))) or any(
        gfile.exists(str(join(folder, str(number), "saved_model.pb"))) for number in version_numbers(folder))


def latest_version_dir(folder: str | os.PathLike) -> Path | str:
    """``folder`` itself if it is a version folder, else its highest numbered version (local or remote)."""
    gfile, folder = _gfile(), as_path(folder)
    if gfile.exists(str(join(folder, "saved_model.pb"))):
        return folder
    numbers = [number for number in version_numbers(folder) if gfile.exists(str(join(folder, str(number), "saved_model.pb")))]
    if not numbers:
        raise errors.CheckpointNotFoundError(
            f"{folder} is not a SavedModel export: no saved_model.pb in it or in a numbered version folder."
        )
    return join(folder, str(numbers[-1]))


def read_metadata(export_dir: str | os.PathLike) -> ExportMetadata:
    """The metadata of a tf_pipeline version folder (local or remote)."""
    gfile, export_dir = _gfile(), as_path(export_dir)
    path = str(join(export_dir, "assets.extra", METADATA_FILE))
    if not gfile.exists(str(join(export_dir, "saved_model.pb"))) or not gfile.exists(path):
        raise errors.CheckpointNotFoundError(
            f"{export_dir} is not a tf_pipeline export version folder (expected saved_model.pb and "
            f"assets.extra/{METADATA_FILE}); pass e.g. saved_models/NAME/1."
        )
    with gfile.GFile(path, "r") as file:
        return ExportMetadata.from_json(file.read(), path)


def write_tokenizer_files(pipe, folder: str | os.PathLike) -> Path:
    """What every export carries so it stands alone: the pipeline's tokenizer files and config.json."""
    pipe.tokenizer.save_pretrained(folder)
    pipe.config.save_pretrained(folder)
    return Path(folder)


def copy_tokenizer_files(export_dir: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Copy the tokenizer files and config an export carries (``assets/tokenizer/``) into a local folder."""
    gfile, source = _gfile(), join(as_path(export_dir), *TOKENIZER_DIR.parts)
    if not gfile.isdir(str(source)):
        raise errors.TokenizerNotFoundError(
            f"{export_dir} carries no tokenizer (written before exports stood alone); export it again."
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in gfile.listdir(str(source)):
        gfile.copy(str(join(source, name)), str(folder / name), overwrite=True)
    return folder


def load_export_tokenizer(export_dir: str | os.PathLike):
    """The HF tokenizer an export carries in ``assets/tokenizer/`` (read into memory)."""
    from tf_pipeline.checkpoints.loading import load_tokenizer

    with tempfile.TemporaryDirectory() as local:
        return load_tokenizer(copy_tokenizer_files(export_dir, local))
