"""Models that take raw ``uint8`` frames: scaling to [0, 1] is the model's first layer.

A clip batch of ``uint8`` frames is a quarter of the bytes of the same batch in float32. Feeding those
bytes to the model and scaling them inside it means the input pipeline never materialises float32
clips on the host (with overlapping clip windows that is most of an epoch's data-loading work) and a
GPU receives a quarter of the bytes. The saved model then takes the frames exactly as decoded.

For frame tasks (next-frame prediction, reconstruction) the targets are ``uint8`` frames too; the
losses and metrics here scale them the same way before comparing. Everything is written with
``keras.ops`` and registered, so such models save and load with ``safe_mode=True`` on every backend.
"""

from __future__ import annotations

import keras
from keras import ops

from core.models.layers import PACKAGE

#: ``uint8`` frame values -> [0, 1].
SCALE = 1.0 / 255.0


@keras.saving.register_keras_serializable(package=PACKAGE)
class FrameScaling(keras.layers.Layer):
    """``uint8`` frames ``(..., H, W, C)`` -> float in [0, 1] (the layer's compute dtype)."""

    def __init__(self, scale: float = SCALE, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        return ops.cast(inputs, self.compute_dtype) * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def _scaled(y_true, y_pred):
    return ops.cast(y_true, y_pred.dtype) * SCALE


@keras.saving.register_keras_serializable(package=PACKAGE)
def scaled_binary_crossentropy(y_true, y_pred):
    """Binary cross-entropy against ``uint8`` target frames scaled to [0, 1]."""
    return keras.losses.binary_crossentropy(_scaled(y_true, y_pred), y_pred)


@keras.saving.register_keras_serializable(package=PACKAGE)
def scaled_mean_squared_error(y_true, y_pred):
    """Mean squared error against ``uint8`` target frames scaled to [0, 1]."""
    return keras.losses.mean_squared_error(_scaled(y_true, y_pred), y_pred)


SCALED_LOSSES = {"binary_crossentropy": scaled_binary_crossentropy, "mse": scaled_mean_squared_error,
                 "mean_squared_error": scaled_mean_squared_error}


def scaled_mse_metric() -> keras.metrics.Metric:
    """The ``mse`` metric of a frame task whose targets are ``uint8`` frames."""
    return keras.metrics.MeanMetricWrapper(scaled_mean_squared_error, name="mse")


def raw_frames_model(model: keras.Model, input_shape: tuple[int, ...]) -> keras.Model:
    """Wrap ``model`` (float frames in [0, 1]) so that it takes ``uint8`` frames of ``input_shape``."""
    raw = keras.Input(shape=input_shape, dtype="uint8", name="raw_frames")
    outputs = model(FrameScaling(name="frame_scaling")(raw))
    return keras.Model(raw, outputs, name=model.name)
