"""Atomic writes: build beside the target (hidden name), then rename into place.

A reader polling the parent (TF Serving watching ``saved_models/NAME/``) sees either nothing
or a complete folder or file, never half of one.

Example:
    >>> with atomic_folder(Path("saved_models/sentiment/3")) as staging:  # doctest: +SKIP
    ...     tf.saved_model.save(module, str(staging))
    >>> with atomic_file(Path("out.jsonl")) as file:  # doctest: +SKIP
    ...     file.write("...")
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from tf_pipeline import errors


@contextlib.contextmanager
def atomic_folder(target: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh staging folder; on success it becomes ``target``, on error it is removed."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise errors.InvalidInputError(f"{target} already exists; pass {errors.option('overwrite')} to replace it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    # A non-numeric hidden name: TF Serving only loads folders named by a version number.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; a model server may run as another user
    try:
        yield staging
        if target.exists():
            if not overwrite:
                raise errors.InvalidInputError(f"{target} appeared meanwhile; not replacing it.")
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.replaced-", dir=target.parent))
            target.rename(retired / target.name)
            staging.rename(target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: Path, mode: str = "w") -> Iterator:
    """Yield an open file beside ``target``; on success it replaces ``target``, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as file:
            yield file
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
