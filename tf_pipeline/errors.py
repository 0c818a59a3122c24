"""The exceptions users catch.

Every error names what was wrong and what to do about it. All derive from
:class:`TFPipelineError`, and each also derives from the built-in exception a
caller would naturally catch (``FileNotFoundError``, ``ValueError``, ...).

Example:
    >>> try:  # doctest: +SKIP
    ...     load_pipeline("/no/such/folder")
    ... except CheckpointNotFoundError as error:
    ...     print(error)
"""


class TFPipelineError(Exception):
    """Base class of every error tf_pipeline raises on purpose."""


class CheckpointError(TFPipelineError):
    """A checkpoint could not be found or loaded."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The model folder does not exist (or the default model is not installed)."""


class WeightsNotFoundError(CheckpointError, FileNotFoundError):
    """The folder has no weights file that can be read without torch."""


class BrokenCheckpointError(CheckpointError, ValueError):
    """A config, weights or index file exists but cannot be read, or does not fit the model."""


class UnsupportedModelError(CheckpointError, ValueError):
    """TensorFlow transformers has no class for this model type and task (or tf_pipeline cannot run the model)."""


class TokenizerNotFoundError(CheckpointError, FileNotFoundError):
    """The folder has no tokenizer files."""


class HubUnreachableError(CheckpointError, ConnectionError):
    """A hub id was given but the Hugging Face Hub cannot be reached and nothing is cached."""


class InvalidInputError(TFPipelineError, ValueError, TypeError):
    """Texts, tensors or arguments given to the pipeline are not usable."""


class UntrainedHeadWarning(UserWarning):
    """The checkpoint has no classification head; a new, randomly initialised one is used."""


_NAMES_FOR = {"style": "python"}  # how messages name options: "python" (keyword=value) or "cli" (--flag value)


def speak_cli() -> None:
    """Messages name options as command-line flags from now on (the CLI calls this once)."""
    _NAMES_FOR["style"] = "cli"


def option(name: str, value: object = True) -> str:
    """An option as the user gives it: ``overwrite=True`` in Python, ``--overwrite`` on the command line.

    Example:
        >>> option("overwrite"), option("runtime", "tf")
        ('overwrite=True', "runtime='tf'")
    """
    if _NAMES_FOR["style"] == "cli":
        flag = "--" + name.replace("_", "-")
        return flag if value is True else f"{flag} {value}"
    return f"{name}={value!r}"
