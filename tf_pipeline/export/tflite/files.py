"""A self-contained .tflite file: the flatbuffer, then a zip of what a client needs.

LiteRT's metadata tools pack a model's associated files (vocabulary, labels) as a zip appended to
the flatbuffer; interpreters read the flatbuffer and ignore what follows, and ``unzip -l`` lists the
files. tf_pipeline appends ``tf_pipeline.json`` (the export metadata), ``labels.txt`` (tasks with labels) and
``tokenizer/`` (the HF tokenizer files and ``config.json``), so the file carries everything, and a
file written before this (metadata in ``model.tflite.json`` beside it) still reads.

Example:
    >>> path.write_bytes(pack(flatbuffer, metadata, tokenizer_dir))     # doctest: +SKIP
    >>> read_metadata(path).task_settings["labels"]                    # doctest: +SKIP
    ['NEGATIVE', 'POSITIVE']
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from tf_pipeline import errors
from tf_pipeline.export.metadata import ExportMetadata

METADATA_NAME = "tf_pipeline.json"
LABELS_NAME = "labels.txt"
TOKENIZER_PREFIX = "tokenizer/"


def pack(flatbuffer: bytes, metadata: ExportMetadata, tokenizer_dir: str | os.PathLike) -> bytes:
    """The flatbuffer followed by a zip of the metadata, the labels and the tokenizer folder's files."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(METADATA_NAME, metadata.to_json())
        labels = metadata.task_settings.get("labels")
        if labels:
            bundle.writestr(LABELS_NAME, "\n".join(labels) + "\n")
        for path in sorted(Path(tokenizer_dir).iterdir()):
            if path.is_file():
                bundle.write(path, TOKENIZER_PREFIX + path.name)
    return flatbuffer + archive.getvalue()


def _bundle(path: Path) -> zipfile.ZipFile | None:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return None


def read_metadata(path: str | os.PathLike) -> ExportMetadata:
    """The metadata inside ``path``, or in the older ``path.json`` beside it."""
    path = Path(path)
    sidecar = Path(f"{path}.json")
    if not path.is_file():
        raise errors.CheckpointNotFoundError(f"{path} not found; run `tf-pipeline convert` first.")
    bundle = _bundle(path)
    if bundle is not None and METADATA_NAME in bundle.namelist():
        with bundle:
            return ExportMetadata.from_json(bundle.read(METADATA_NAME), f"{path}:{METADATA_NAME}")
    if sidecar.is_file():
        return ExportMetadata.from_json(sidecar.read_text(encoding="utf-8"), str(sidecar))
    raise errors.BrokenCheckpointError(
        f"{path} carries no tf_pipeline metadata (and there is no {sidecar.name}); convert it with tf-pipeline."
    )


def extract_tokenizer(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Write the tokenizer files packed in ``path`` into ``folder``; False if it carries none."""
    bundle = _bundle(Path(path))
    if bundle is None:
        return False
    with bundle:
        names = [name for name in bundle.namelist() if name.startswith(TOKENIZER_PREFIX) and name != TOKENIZER_PREFIX]
        for name in names:
            Path(folder, name[len(TOKENIZER_PREFIX):]).write_bytes(bundle.read(name))
    return bool(names)
