"""Conv3D family: Conv3D stacks for classification / regression and for next-frame prediction, and the
stacked per-frame CNN -> Conv3D -> LSTM variant.

Input ``(frames, height, width, channels)`` float32 in [0, 1]. Output: class probabilities
``(outputs,)`` (``classify``), values ``(outputs,)`` (``regress``) or next frames with the input's
shape (``predict``).
"""

from __future__ import annotations

import keras
from keras import layers

from core.models.errors import SpecError
from core.models.layers import PerFrame
from core.models.specs import Conv3DSpec


def head(x, spec: Conv3DSpec):
    """Softmax over ``spec.outputs`` classes, or a linear layer of ``spec.outputs`` values (float32)."""
    if spec.task == "classify":
        return layers.Dense(spec.outputs, activation="softmax", dtype="float32", name="classes")(x)
    return layers.Dense(spec.outputs, dtype="float32", name="values")(x)


def _build_predict(spec: Conv3DSpec, inputs):
    k, p = spec.kernel, spec.kernel // 2
    x = inputs
    for i, filters in enumerate((*spec.filters, spec.channels)):
        last = i == len(spec.filters)
        x = layers.ZeroPadding3D(((k - 1, 0), (p, p), (p, p)), name=f"causal_pad_{i + 1}")(x)
        x = layers.Conv3D(filters, k, padding="valid", activation="sigmoid" if last else "relu",
                          dtype="float32" if last else None, name="next_frame" if last else f"conv3d_{i + 1}")(x)
    return x


def _build_stacked(spec: Conv3DSpec, inputs):
    x = inputs
    for i, filters in enumerate(spec.filters[:-1]):
        x = PerFrame(layers.Conv2D(filters, 3, padding="same", activation="relu"), name=f"cnn_{i + 1}")(x)
        x = PerFrame(layers.MaxPooling2D(2), name=f"pool_{i + 1}")(x)
    x = layers.Conv3D(spec.filters[-1], spec.kernel, padding="same", activation="relu", name="conv3d")(x)
    x = PerFrame(layers.GlobalAveragePooling2D(), name="frame_features")(x)
    x = layers.LSTM(spec.lstm_units, name="lstm")(x)
    return layers.Dropout(spec.dropout)(x)


def _build_blocks(spec: Conv3DSpec, inputs):
    x = inputs
    frames, height, width = spec.frames, spec.height, spec.width
    for i, filters in enumerate(spec.filters):
        x = layers.Conv3D(filters, spec.kernel, padding="same", activation="relu", name=f"conv3d_{i + 1}")(x)
        x = layers.BatchNormalization(name=f"batch_norm_{i + 1}")(x)
        pool_t = 2 if i >= spec.temporal_pool_from and frames >= 2 else 1
        pool_s = 2 if min(height, width) >= 2 else 1
        if pool_t > 1 or pool_s > 1:
            x = layers.MaxPooling3D((pool_t, pool_s, pool_s), name=f"pool_{i + 1}")(x)
            frames, height, width = frames // pool_t, height // pool_s, width // pool_s
    x = layers.GlobalAveragePooling3D()(x)
    return layers.Dropout(spec.dropout)(x)


def build(spec: Conv3DSpec) -> keras.Model:
    inputs = keras.Input(shape=spec.input_shape, name="frames")
    name = f"conv3d_{spec.preset}".replace("-", "_")
    if spec.task == "predict":
        return keras.Model(inputs, _build_predict(spec, inputs), name=name)
    if spec.task == "anomaly":
        raise SpecError("the Conv3D family has no anomaly model; use the autoencoder presets")
    x = _build_stacked(spec, inputs) if spec.stacked else _build_blocks(spec, inputs)
    return keras.Model(inputs, head(x, spec), name=name)
