"""TensorFlow imported without its C++ start-up lines, when the environment asks for quiet.

TensorFlow 2.21 prints absl lines at import (``oneDNN custom operations are on``, the CUDA stub,
the CPU feature guard) before its logging is initialised, so ``TF_CPP_MIN_LOG_LEVEL`` does not stop
them. :func:`import_tensorflow` honours that variable anyway: with a level of 1 or more, file
descriptor 2 points at ``/dev/null`` while TensorFlow and transformers are imported. Errors at import
still raise as Python exceptions, with their messages.

Example:
    >>> tf = import_tensorflow()
    >>> int(tf.constant(1) + 1)
    2
"""

from __future__ import annotations

import contextlib
import os
import sys
from types import ModuleType
from typing import Iterator

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"


def asks_for_quiet() -> bool:
    """Whether ``TF_CPP_MIN_LOG_LEVEL`` is set to 1 or more."""
    return os.environ.get(LEVEL_VARIABLE, "0").strip() not in ("", "0")


@contextlib.contextmanager
def stderr_to_devnull() -> Iterator[None]:
    """File descriptor 2 (what C++ code writes to) points at ``/dev/null`` inside the block."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow(quiet: bool | None = None) -> ModuleType:
    """Import TensorFlow (and transformers, which logs at import too) and probe the devices.

    Args:
        quiet: hide their start-up lines; ``None`` (default) asks :func:`asks_for_quiet`. Nothing is
            hidden when TensorFlow was imported already.

    Returns:
        The ``tensorflow`` module.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    quiet = asks_for_quiet() if quiet is None else quiet
    with stderr_to_devnull() if quiet else contextlib.nullcontext():
        import tensorflow as tf
        import transformers  # noqa: F401

        tf.config.list_physical_devices()  # device probing logs too
    return tf
