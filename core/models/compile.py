"""Loss, metrics and optimizer per task (Adam at the spec's learning rate)."""

from __future__ import annotations

import keras

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
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=spec.learning_rate), loss=loss, metrics=metrics)
    return model
