"""Next-frame predictor: ConvLSTM2D stack, input frames ``t`` -> predicted frames ``t + 1``.

Input and output are ``(frames, height, width, channels)`` float32 in [0, 1]. Train on shifted pairs
(``x = clip[:-1]``, ``y = clip[1:]``, see :func:`core.preprocessing.shifted_pairs`).
"""

from __future__ import annotations

import keras
from keras import layers

from core.models.layers import PerFrame, ResidualLogits
from core.models.specs import NextFrameSpec


def build(spec: NextFrameSpec) -> keras.Model:
    inputs = keras.Input(shape=spec.input_shape, name="frames")
    x = inputs
    if spec.downsample > 1:
        x = PerFrame(
            layers.Conv2D(spec.encoder_filters, max(3, spec.downsample), strides=spec.downsample, padding="same",
                          activation="relu"),
            name="encode",
        )(x)
    last = len(spec.filters) - 1
    for i, (filters, kernel) in enumerate(zip(spec.filters, spec.kernels, strict=True)):
        x = layers.ConvLSTM2D(filters, (kernel, kernel), padding="same", return_sequences=True,
                              activation=spec.activation, name=f"convlstm_{i + 1}")(x)
        if spec.batch_norm and i < last:
            x = layers.BatchNormalization(name=f"batch_norm_{i + 1}")(x)
    if spec.downsample > 1:
        x = PerFrame(
            layers.Conv2DTranspose(spec.encoder_filters, max(3, spec.downsample), strides=spec.downsample,
                                   padding="same", activation="relu"),
            name="decode",
        )(x)
    activation = None if spec.predict_delta else "sigmoid"
    k = spec.head_kernel
    if spec.head == "conv3d":
        x = layers.Conv3D(spec.channels, (k, k, k), padding="same", activation=activation, dtype="float32",
                          name="head")(x)
    else:
        x = PerFrame(layers.Conv2D(spec.channels, k, padding="same", activation=activation),
                                   dtype="float32", name="head")(x)
    if spec.predict_delta:
        x = ResidualLogits(dtype="float32", name="next_frame")([inputs, x])
    return keras.Model(inputs, x, name=f"next_frame_{spec.preset}".replace("-", "_"))
