"""Atomic folder writes: build in a hidden folder beside the target, then rename it into place.

A reader polling the parent (TF Serving watching ``saved_models/NAME/``) sees either no
folder or a complete one, never half of one.

Example:
    >>> with atomic_folder(Path("saved_models/sentiment/3")) as staging:
    ...     tf.saved_model.save(module, str(staging))
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from . import errors


@contextlib.contextmanager
def atomic_folder(target: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh staging folder; on success it becomes ``target``, on error it is removed."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise errors.InvalidInputError(f"{target} already exists; pass overwrite=True (--overwrite) to replace it.")
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
