"""Spatiotemporal autoencoder (Chong & Tay 2017) for anomaly detection by reconstruction error.

Input and output are ``(frames, height, width, channels)`` float32 in [0, 1] (10-frame clips of
normal footage in the reference). Per-frame Conv2D encoder -> ConvLSTM2D bottleneck -> Conv2DTranspose
decoder -> sigmoid Conv2D, with layer normalisation after every hidden layer.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from core.models.errors import SpecError
from core.models.layers import PerFrame
from core.models.specs import AutoencoderSpec


def _valid_roundtrip(size: int, encoder: tuple[tuple[int, int, int], ...]) -> bool:
    n = size
    for _, kernel, stride in encoder:
        if n < kernel or (n - kernel) % stride:
            return False
        n = (n - kernel) // stride + 1
    for _, kernel, stride in reversed(encoder):
        n = (n - 1) * stride + kernel
    return n == size


def padding_for(spec: AutoencoderSpec) -> str:
    """``"valid"`` when it reconstructs the input size exactly (227 with the published layers), else ``"same"``."""
    if _valid_roundtrip(spec.height, spec.encoder) and _valid_roundtrip(spec.width, spec.encoder):
        return "valid"
    factor = math.prod(stride for _, _, stride in spec.encoder)
    if spec.height % factor or spec.width % factor:
        raise SpecError(
            f"autoencoder input {spec.height}x{spec.width} does not round-trip through strides "
            f"{[s for _, _, s in spec.encoder]}: use a size divisible by {factor} (e.g. 64, 128, 256) or 227"
        )
    return "same"


def build(spec: AutoencoderSpec) -> keras.Model:
    padding = padding_for(spec)

    def norm(x, name):
        return layers.LayerNormalization(name=name)(x) if spec.layer_norm else x

    inputs = keras.Input(shape=spec.input_shape, name="frames")
    x = inputs
    for i, (filters, kernel, stride) in enumerate(spec.encoder):
        x = PerFrame(
            layers.Conv2D(filters, kernel, strides=stride, padding=padding, activation=spec.conv_activation),
            name=f"encode_{i + 1}"
        )(x)
        x = norm(x, f"encode_norm_{i + 1}")
    for i, filters in enumerate(spec.recurrent):
        x = layers.ConvLSTM2D(filters, spec.recurrent_kernel, padding="same", return_sequences=True,
                              name=f"convlstm_{i + 1}")(x)
        x = norm(x, f"convlstm_norm_{i + 1}")
    for i, (filters, kernel, stride) in enumerate(reversed(spec.encoder)):
        x = PerFrame(
            layers.Conv2DTranspose(filters, kernel, strides=stride, padding=padding, activation=spec.conv_activation),
            name=f"decode_{i + 1}",
        )(x)
        x = norm(x, f"decode_norm_{i + 1}")
    x = PerFrame(
        layers.Conv2D(spec.channels, spec.final_kernel, padding="same", activation="sigmoid"),
        dtype="float32", name="reconstruction",
    )(x)
    return keras.Model(inputs, x, name=f"autoencoder_{spec.preset}".replace("-", "_"))
