"""Future-frame U-Net predictor: per-frame 2D encoder, temporal mixing at the bottleneck, per-frame decoder.

Input and output are ``(frames, height, width, channels)`` float32 in [0, 1]; output ``t`` predicts input
frame ``t + 1`` from inputs ``0 .. t`` only (train on shifted pairs, like every ``predict`` model, and
score with :func:`core.inference.anomaly.scoring.score_video` unchanged).

Why this layout: anomaly scoring by prediction error needs a model that predicts *normal* motion well and
abnormal motion badly. Encoding each frame alone and mixing time only at the coarse bottleneck keeps the
model small and fast on a CPU, the skip connections carry the current frame's detail to the output, and
predicting the change from the current frame (:class:`~core.models.layers.LogitResidual`) means the
network spends its capacity on motion, not on copying the static background.

The ``stack`` layout (:func:`_build_stacked`) instead stacks the last frames as the channels of one 2D
U-Net and predicts only the frame after the clip (output ``(1, H, W, C)``): motion is visible at full
resolution from the first convolution, and the U-Net runs once per predicted frame. On UCSD Ped2 it
learns normal motion far faster on a CPU than the per-frame layouts (docs/models.md).
"""

from __future__ import annotations

import keras
from keras import layers

from core.models.layers import LastFrame, LogitResidual, PerFrame, StackFrames
from core.models.specs import UNetPredictorSpec


def _conv_block(x, filters: int, convs: int, name: str, per_frame: bool = True):
    for j in range(convs):
        conv = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv_{j + 1}")
        x = PerFrame(conv, name=f"{name}_conv_{j + 1}")(x) if per_frame else conv(x)
    return x


def _temporal(x, spec: UNetPredictorSpec):
    """Mix time at the bottleneck, causally: output ``t`` depends on bottleneck features ``<= t`` only."""
    k = spec.temporal_kernel
    if spec.temporal == "convlstm":
        return layers.ConvLSTM2D(spec.temporal_filters, (k, k), padding="same", return_sequences=True,
                                 name="temporal_convlstm")(x)
    window, p = spec.temporal_window, k // 2
    x = layers.ZeroPadding3D(((window - 1, 0), (p, p), (p, p)), name="temporal_causal_pad")(x)
    return layers.Conv3D(spec.temporal_filters, (window, k, k), padding="valid", activation="relu",
                         name="temporal_conv3d")(x)


def _build_stacked(spec: UNetPredictorSpec) -> keras.Model:
    """The last ``temporal_window`` frames as channels -> 2D U-Net -> the next frame, ``(1, H, W, C)``."""
    inputs = keras.Input(shape=spec.input_shape, name="frames")
    x = StackFrames(spec.temporal_window, name="stack_frames")(inputs)
    skips = []
    for i, filters in enumerate(spec.filters):
        if i:
            x = layers.MaxPooling2D(2, name=f"down_{i + 1}")(x)
        x = _conv_block(x, filters, spec.convs_per_level, f"encode_{i + 1}", per_frame=False)
        skips.append(x)
    for i in range(len(spec.filters) - 2, -1, -1):
        x = layers.UpSampling2D(2, name=f"up_{i + 1}")(x)
        x = layers.Concatenate(name=f"skip_{i + 1}")([x, skips[i]])
        x = _conv_block(x, spec.filters[i], spec.convs_per_level, f"decode_{i + 1}", per_frame=False)
    change = layers.Conv2D(spec.channels, 1, kernel_initializer="zeros", dtype="float32", name="change")(x)
    frame = LogitResidual(dtype="float32", name="predicted")([LastFrame(name="last_frame")(inputs), change])
    outputs = layers.Reshape((1, spec.height, spec.width, spec.channels), name="next_frame")(frame)
    return keras.Model(inputs, outputs, name=f"unet_predictor_{spec.preset}".replace("-", "_"))


def build(spec: UNetPredictorSpec) -> keras.Model:
    if spec.temporal == "stack":
        return _build_stacked(spec)
    inputs = keras.Input(shape=spec.input_shape, name="frames")
    levels = len(spec.filters)
    skips = []
    x = inputs
    for i, filters in enumerate(spec.filters):
        if i:
            x = PerFrame(layers.MaxPooling2D(2), name=f"down_{i + 1}")(x)
        x = _conv_block(x, filters, spec.convs_per_level, f"encode_{i + 1}")
        skips.append(x)
    x = layers.Concatenate(name="bottleneck")([skips[-1], _temporal(skips[-1], spec)])
    for i in range(levels - 2, -1, -1):
        x = PerFrame(layers.UpSampling2D(2), name=f"up_{i + 1}")(x)
        x = layers.Concatenate(name=f"skip_{i + 1}")([x, skips[i]])
        x = _conv_block(x, spec.filters[i], spec.convs_per_level, f"decode_{i + 1}")
    change = PerFrame(layers.Conv2D(spec.channels, 1, kernel_initializer="zeros"),
                                    dtype="float32", name="change")(x)
    outputs = LogitResidual(dtype="float32", name="next_frame")([inputs, change])
    return keras.Model(inputs, outputs, name=f"unet_predictor_{spec.preset}".replace("-", "_"))
