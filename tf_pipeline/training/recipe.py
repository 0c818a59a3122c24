"""The fine-tuning recipe: every training setting besides the data and the model, with the defaults
that built the default model (chosen on the validation split by ``scripts/compare_recipes.py``).

Example:
    >>> from tf_pipeline.training.recipe import Recipe
    >>> Recipe(epochs=3, label_smoothing=0.1).check()  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

from tf_pipeline import errors


@dataclass(frozen=True)
class Recipe:
    """How to fine-tune: every setting the training run takes besides the data and the model.

    The defaults are the recipe chosen by ``scripts/compare_recipes.py`` on a validation split
    (docs/training.md has the measurements).

    Example:
        >>> finetune("reviews.csv", "saved_models/reviews", recipe=Recipe(epochs=2, label_smoothing=0.0))  # doctest: +SKIP
    """

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup: float = 0.1  # share of the steps with a linearly rising learning rate; then linear decay to 0
    weight_decay: float = 0.01  # AdamW, not applied to biases and LayerNorm
    label_smoothing: float = 0.0
    max_length: int = 128
    freeze_embeddings: bool = True  # keep the token embeddings as pretrained (unseen words stay aligned)
    frozen_layers: int = 0  # also keep this many of the lowest encoder layers as pretrained (faster steps)
    top_layers: int = 0  # train only the top N layers and the head, over the lower layers' outputs computed once (0: off)
    contrastive_epochs: int = 0  # SetFit-style stage 1: same-label pairs pulled together, others apart
    weight_average: float = 0.0  # keep an exponential moving average of the weights with this momentum (0: off)
    patience: int | None = None  # early stopping on validation loss (None: run every epoch)
    seed: int = 0

    def check(self) -> "Recipe":
        """The recipe itself, or :class:`InvalidInputError` naming the bad setting."""
        positive = ("epochs", "batch_size", "max_length")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise errors.InvalidInputError(f"{name} must be a positive integer, got {value!r}.")
        if self.patience is not None and self.weight_average:
            raise errors.InvalidInputError("Early stopping (patience) and weight averaging exclude each other.")
        if self.top_layers and (self.frozen_layers or self.contrastive_epochs or self.weight_average
                                or self.patience is not None):
            raise errors.InvalidInputError(
                "top_layers trains over cached lower-layer states: it excludes frozen_layers, contrastive_epochs, "
                "weight_average and patience.")
        checks = {
            "learning_rate": 0 < self.learning_rate < 1,
            "warmup": 0 <= self.warmup < 1,
            "weight_decay": 0 <= self.weight_decay < 1,
            "label_smoothing": 0 <= self.label_smoothing < 1,
            "weight_average": 0 <= self.weight_average < 1,
            "contrastive_epochs": isinstance(self.contrastive_epochs, int) and self.contrastive_epochs >= 0,
            "frozen_layers": isinstance(self.frozen_layers, int) and self.frozen_layers >= 0,
            "top_layers": isinstance(self.top_layers, int) and self.top_layers >= 0,
            "patience": self.patience is None or (isinstance(self.patience, int) and self.patience >= 1),
        }
        for name, ok in checks.items():
            if not ok:
                raise errors.InvalidInputError(f"{name} is out of range: {getattr(self, name)!r}.")
        return self
