"""Loss, metrics and optimizer per task (Adam at the spec's learning rate)."""

from __future__ import annotations

import keras

from core.models.errors import SpecError
from core.models.specs import ModelSpec


def loss_and_metrics(spec: ModelSpec) -> tuple[str, list[str]]:
    """The loss name and metric names for ``spec``'s task."""
    custom = getattr(spec, "loss", "")
    if spec.task == "classify":
        return custom or "sparse_categorical_crossentropy", ["accuracy"]
    if spec.task == "regress":
        return custom or "mse", ["mae"]
    if spec.task == "predict":
        return custom or "binary_crossentropy", ["mse"]
    return custom or "mse", []


def compile_model(model: keras.Model, spec: ModelSpec) -> keras.Model:
    loss, metrics = loss_and_metrics(spec)
    if spec.input_dtype == "uint8" and spec.task in ("predict", "anomaly"):  # uint8 target frames
        from core.models.frame_input import SCALED_LOSSES, scaled_mse_metric

        if loss not in SCALED_LOSSES:
            raise SpecError(f"loss {loss!r} cannot compare uint8 target frames; use float32 input")
        loss = SCALED_LOSSES[loss]
        metrics = [scaled_mse_metric() if m == "mse" else m for m in metrics]
    optimizer = keras.optimizers.Adam(learning_rate=spec.learning_rate, epsilon=getattr(spec, "adam_epsilon", 1e-7))
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model
