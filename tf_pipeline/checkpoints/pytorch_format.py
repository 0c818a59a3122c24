"""A TF model's weights as PyTorch-format ``model.safetensors``, written without torch.

The inverse of what :mod:`checkpoint` reads: TF variable names become PyTorch parameter names
through transformers' own mapping, and dense kernels are transposed. A folder written by
:func:`save_for_pytorch` loads in PyTorch's ``transformers.pipeline`` (in another venv), so the
benchmark compares both frameworks on the same weights.

Example:
    >>> save_for_pytorch(load_checkpoint(), "/tmp/default-for-torch")  # doctest: +SKIP
    >>> # elsewhere, with torch:  pipeline("text-classification", model="/tmp/default-for-torch")
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tf_pipeline.atomic import atomic_folder
from tf_pipeline.checkpoints.loading import SAFETENSORS, Checkpoint


def pytorch_state_dict(model) -> dict[str, np.ndarray]:
    """PyTorch parameter name → array for every weight of a TF transformers model.

    Example:
        >>> sorted(pytorch_state_dict(model))[:1]  # doctest: +SKIP
        ['bert.embeddings.LayerNorm.bias']
    """
    from transformers.modeling_tf_pytorch_utils import apply_transpose, convert_tf_weight_name_to_pt_weight_name

    state = {}
    for weight in model.weights:
        name, transpose = convert_tf_weight_name_to_pt_weight_name(weight.name, tf_weight_shape=weight.shape)
        state[name] = np.ascontiguousarray(apply_transpose(transpose, weight.numpy(), pt_to_tf=False))
    return state


def save_for_pytorch(checkpoint: Checkpoint, folder: str | os.PathLike) -> Path:
    """Write config, tokenizer and PyTorch-format ``model.safetensors`` to ``folder`` (atomically)."""
    from safetensors.numpy import save_file

    with atomic_folder(Path(folder)) as staging:
        checkpoint.config.save_pretrained(staging)
        checkpoint.tokenizer.save_pretrained(staging)
        save_file(pytorch_state_dict(checkpoint.model), str(staging / SAFETENSORS), metadata={"format": "pt"})
    return Path(folder)
