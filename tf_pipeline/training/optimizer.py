"""The optimizer every training run uses: AdamW with a linear warm-up, then linear decay to 0.

Example:
    >>> optimizer = make_optimizer(Recipe(learning_rate=5e-5, warmup=0.1), total_steps=600)  # doctest: +SKIP
"""

from __future__ import annotations

from tf_pipeline.training.recipe import Recipe


def make_optimizer(recipe: Recipe, total_steps: int):
    """AdamW whose learning rate rises linearly over the warm-up steps, then falls linearly to 0."""
    import tf_keras as keras

    warmup = max(1, round(recipe.warmup * total_steps)) if recipe.warmup else 0
    schedule = WarmupLinearDecay(recipe.learning_rate, warmup, max(total_steps, warmup + 1))
    averaging = dict(use_ema=True, ema_momentum=recipe.weight_average) if recipe.weight_average else {}
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=recipe.weight_decay, jit_compile=False,
                                       **averaging)  # XLA-compiled updates are slower on CPU (docs/training.md)
    optimizer.exclude_from_weight_decay(var_names=["bias", "LayerNorm", "layer_norm"])
    return optimizer


def WarmupLinearDecay(peak: float, warmup_steps: int, total_steps: int):
    """A Keras learning-rate schedule: 0 → ``peak`` over ``warmup_steps``, then linearly to 0 at ``total_steps``."""
    import tensorflow as tf
    import tf_keras as keras

    class Schedule(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = tf.cast(step, tf.float32)
            rising = step / max(warmup_steps, 1)
            falling = (total_steps - step) / max(total_steps - warmup_steps, 1)
            return peak * tf.clip_by_value(tf.minimum(rising, falling) if warmup_steps else falling, 0.0, 1.0)

        def get_config(self):
            return {"peak": peak, "warmup_steps": warmup_steps, "total_steps": total_steps}

    return Schedule()
