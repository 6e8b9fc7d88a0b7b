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
    if spec.task in ("predict", "anomaly"):
        from core.models import frame_input

        # uint8 target frames are scaled by the loss; a model predicting fewer frames than its clip (the
        # next one only) is compared with the last target frames (core.models.frame_input)
        fewer = model.outputs[0].shape[1] != spec.frames
        if spec.input_dtype == "uint8":
            table, metric = frame_input.SCALED_LOSSES, frame_input.scaled_mse_metric
        elif fewer:
            table, metric = frame_input.ALIGNED_LOSSES, frame_input.aligned_mse_metric
        elif loss == "mse+l1":  # float frames, as many predicted as given: nothing to align, only the sum to make
            table, metric = {"mse+l1": frame_input.aligned_mse_l1}, None
        else:
            table = None
        if table is not None:
            if loss not in table:
                raise SpecError(f"loss {loss!r} cannot compare uint8 target frames or fewer predicted frames "
                                "than the clip has; use 'mse', 'mse+l1' or 'binary_crossentropy'")
            loss = table[loss]
            if metric is not None:
                metrics = [metric() if m == "mse" else m for m in metrics]
    optimizer = keras.optimizers.Adam(learning_rate=spec.learning_rate, epsilon=getattr(spec, "adam_epsilon", 1e-7))
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model
