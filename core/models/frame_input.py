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


def _aligned(y_true, y_pred):
    """``y_true`` aligned in time with ``y_pred``, in its dtype.

    A model that predicts fewer frames than its clip has (the ``stack`` U-Net predicts one) is compared
    with the **last** target frames: output ``k`` of ``n`` predicts the frame after input
    ``frames - n + k``, so its targets are the last ``n`` frames of the shifted clip.
    """
    if len(y_true.shape) == 5 and y_pred.shape[1] is not None and y_true.shape[1] != y_pred.shape[1]:
        y_true = y_true[:, -y_pred.shape[1]:]
    return ops.cast(y_true, y_pred.dtype)


def _scaled(y_true, y_pred):
    return _aligned(y_true, y_pred) * SCALE


@keras.saving.register_keras_serializable(package=PACKAGE)
def scaled_binary_crossentropy(y_true, y_pred):
    """Binary cross-entropy against ``uint8`` target frames scaled to [0, 1] (aligned as :func:`_aligned`)."""
    return keras.losses.binary_crossentropy(_scaled(y_true, y_pred), y_pred)


@keras.saving.register_keras_serializable(package=PACKAGE)
def scaled_mean_squared_error(y_true, y_pred):
    """Mean squared error against ``uint8`` target frames scaled to [0, 1] (aligned as :func:`_aligned`)."""
    return keras.losses.mean_squared_error(_scaled(y_true, y_pred), y_pred)


@keras.saving.register_keras_serializable(package=PACKAGE)
def aligned_binary_crossentropy(y_true, y_pred):
    """Binary cross-entropy against float target frames in [0, 1], aligned as :func:`_aligned`."""
    return keras.losses.binary_crossentropy(_aligned(y_true, y_pred), y_pred)


@keras.saving.register_keras_serializable(package=PACKAGE)
def aligned_mean_squared_error(y_true, y_pred):
    """Mean squared error against float target frames in [0, 1], aligned as :func:`_aligned`."""
    return keras.losses.mean_squared_error(_aligned(y_true, y_pred), y_pred)


def _mse_plus_l1(y_true, y_pred):
    error = y_pred - y_true
    return ops.mean(ops.square(error) + ops.abs(error), axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
def scaled_mse_l1(y_true, y_pred):
    """Mean squared plus mean absolute error against ``uint8`` target frames scaled to [0, 1]: the absolute
    term keeps pulling small errors (a faint haze over the black background) to zero, where the squared
    one all but stops."""
    return _mse_plus_l1(_scaled(y_true, y_pred), y_pred)


@keras.saving.register_keras_serializable(package=PACKAGE)
def aligned_mse_l1(y_true, y_pred):
    """:func:`scaled_mse_l1` against float target frames in [0, 1], aligned as :func:`_aligned`."""
    return _mse_plus_l1(_aligned(y_true, y_pred), y_pred)


SCALED_LOSSES = {"binary_crossentropy": scaled_binary_crossentropy, "mse": scaled_mean_squared_error,
                 "mean_squared_error": scaled_mean_squared_error, "mse+l1": scaled_mse_l1}
ALIGNED_LOSSES = {"binary_crossentropy": aligned_binary_crossentropy, "mse": aligned_mean_squared_error,
                  "mean_squared_error": aligned_mean_squared_error, "mse+l1": aligned_mse_l1}


def scaled_mse_metric() -> keras.metrics.Metric:
    """The ``mse`` metric of a frame task whose targets are ``uint8`` frames."""
    return keras.metrics.MeanMetricWrapper(scaled_mean_squared_error, name="mse")


def aligned_mse_metric() -> keras.metrics.Metric:
    """The ``mse`` metric of a model that predicts fewer frames than its float clip has."""
    return keras.metrics.MeanMetricWrapper(aligned_mean_squared_error, name="mse")


def raw_frames_model(model: keras.Model, input_shape: tuple[int, ...]) -> keras.Model:
    """Wrap ``model`` (float frames in [0, 1]) so that it takes ``uint8`` frames of ``input_shape``."""
    raw = keras.Input(shape=input_shape, dtype="uint8", name="raw_frames")
    outputs = model(FrameScaling(name="frame_scaling")(raw))
    return keras.Model(raw, outputs, name=model.name)
