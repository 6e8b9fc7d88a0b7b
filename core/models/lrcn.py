"""LRCN: per-frame CNN (PerFrame, a folded TimeDistributed) -> LSTM -> softmax (classify) or linear (regress) head.

With ``frame_differences`` the per-frame CNN sees the absolute differences between consecutive frames
(computed by the model's first layer), one fewer than the clip's frames.

Input ``(frames, height, width, channels)`` float32 in [0, 1]; output ``(outputs,)``. The per-frame
CNN is built from scratch (conv-BN-ReLU-pool blocks) or is a Keras application backbone whose
``weights`` are ``None``, ``"imagenet"`` (downloaded by Keras when online) or a local weights file.

The model is assembled from two parts so the trainer can cache features: :func:`build_frame_encoder`
(one frame -> feature vector) and :func:`build_sequence_head` (``(frames, features)`` -> output).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers

from core.models.errors import BackboneWeightsError, ModelFileError, SpecError
from core.models.layers import FrameDifferences, PerFrame, RepeatChannels
from core.models.specs import LRCNSpec


@dataclass(frozen=True)
class Backbone:
    constructor: str  # name in keras.applications
    scale: float  # inputs in [0, 1] -> x * scale + offset is what the backbone expects
    offset: float
    min_size: int


BACKBONE_TABLE = {
    "inception_v3": Backbone("InceptionV3", 2.0, -1.0, 75),
    "mobilenet_v2": Backbone("MobileNetV2", 2.0, -1.0, 32),
    "efficientnet_b0": Backbone("EfficientNetB0", 255.0, 0.0, 32),
    "xception": Backbone("Xception", 2.0, -1.0, 71),
}


def resolve_weights(spec: LRCNSpec) -> str | None:
    """``None``, ``"imagenet"`` or the checked path of a local weights file."""
    weights = spec.weights
    if weights in (None, "", "none", "None"):
        return None
    if weights == "imagenet":
        return "imagenet"
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ModelFileError(path, "backbone weights file not found")
    return str(path)


def _weights_problem(exc: BaseException, constructor: str) -> str:
    """One line saying why a local file is not usable as ``constructor`` weights (Keras says it in many)."""
    text = str(exc)
    match = re.search(r"A total of (\d+) objects could not be loaded.*?for object <\w+ name=([^,>]+)", text, re.S)
    if match:
        return (f"not {constructor} weights (without the top): {match.group(1)} of its layers find no matching "
                f"weights in this file (the first: '{match.group(2)}'); it holds another model's weights")
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    if "file signature not found" in text:
        return f"not a weights file: not HDF5 ({first}); expected a {constructor} .weights.h5 file"
    if "truncated file" in text:
        return f"truncated weights file ({first}); download or copy it again"
    return f"cannot load {constructor} weights: {first}"


def _application(spec: LRCNSpec, table: Backbone, weights: str | None) -> keras.Model:
    constructor = getattr(keras.applications, table.constructor)
    shape = (spec.height, spec.width, 3)
    # Keras warns once per layer it cannot fill from a wrong weights file (a hundred lines); the error
    # below says it in one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return constructor(include_top=False, weights=weights, input_shape=shape, pooling="avg")
        except ValueError as exc:
            if weights not in (None, "imagenet"):
                raise ModelFileError(weights, _weights_problem(exc, table.constructor)) from None
            raise SpecError(f"{table.constructor} backbone: {exc}") from exc
        except Exception as exc:  # download failures come as URLError, OSError, Exception("URL fetch failure ...")
            if weights != "imagenet":
                raise ModelFileError(weights, _weights_problem(exc, table.constructor)) from None
            raise BackboneWeightsError(
                f"cannot download the ImageNet weights of {table.constructor} ({type(exc).__name__}: {exc}). "
                "Offline? Download that file on a machine with internet (or copy it from ~/.keras/models/ there), "
                "then pass its path as the weights (CLI: --weights FILE), or train from random weights (--weights none)"
            ) from exc


def build_frame_encoder(spec: LRCNSpec) -> keras.Model:
    """One frame ``(height, width, channels)`` -> a feature vector ``(features,)``."""
    inputs = keras.Input(shape=(spec.height, spec.width, spec.channels), name="frame")
    x = inputs
    if spec.backbone == "scratch":
        for i, filters in enumerate(spec.cnn_filters):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv_{i + 1}")(x)
            x = layers.BatchNormalization(name=f"batch_norm_{i + 1}")(x)
            x = layers.ReLU(name=f"relu_{i + 1}")(x)
            x = layers.MaxPooling2D(2, name=f"pool_{i + 1}")(x)
        pooling = layers.GlobalMaxPooling2D if spec.pooling == "max" else layers.GlobalAveragePooling2D
        x = pooling(name="features")(x)
        encoder = keras.Model(inputs, x, name="frame_encoder")
        encoder.trainable = not spec.freeze_backbone
        return encoder
    table = BACKBONE_TABLE[spec.backbone]
    if min(spec.height, spec.width) < table.min_size:
        raise SpecError(f"{table.constructor} needs frames of at least {table.min_size}x{table.min_size}, "
                            f"not {spec.height}x{spec.width}")
    if spec.channels == 1:
        x = RepeatChannels(3, name="gray_to_rgb")(x)
    elif spec.channels != 3:
        raise SpecError(f"{table.constructor} takes 1 or 3 channels, not {spec.channels}")
    x = layers.Rescaling(table.scale, table.offset, name="backbone_scaling")(x)
    backbone = _application(spec, table, resolve_weights(spec))
    backbone.trainable = not spec.freeze_backbone
    x = backbone(x, training=False) if spec.freeze_backbone else backbone(x)
    return keras.Model(inputs, x, name="frame_encoder")


def build_sequence_head(spec: LRCNSpec, features: int) -> keras.Model:
    """``(frames, features)`` -> LSTM layers -> softmax or linear ``(outputs,)``."""
    steps = spec.frames - 1 if spec.frame_differences else spec.frames
    inputs = keras.Input(shape=(steps, features), name="frame_features")
    x = inputs
    for i, units in enumerate(spec.lstm_units):
        x = layers.LSTM(units, return_sequences=i < len(spec.lstm_units) - 1, name=f"lstm_{i + 1}")(x)
    if spec.dropout:
        x = layers.Dropout(spec.dropout)(x)
    if spec.dense_units:
        x = layers.Dense(spec.dense_units, activation="relu", name="dense")(x)
    if spec.task == "classify":
        x = layers.Dense(spec.outputs, activation="softmax", dtype="float32", name="classes")(x)
    else:
        x = layers.Dense(spec.outputs, dtype="float32", name="values")(x)
    return keras.Model(inputs, x, name="sequence_head")


def assemble(spec: LRCNSpec, encoder: keras.Model, head: keras.Model) -> keras.Model:
    """The full clip model ``PerFrame(encoder) -> head`` (sharing the parts' weights)."""
    inputs = keras.Input(shape=spec.input_shape, name="frames")
    x = FrameDifferences(name="frame_differences")(inputs) if spec.frame_differences else inputs
    x = PerFrame(encoder, name="per_frame_cnn")(x)
    return keras.Model(inputs, head(x), name=f"lrcn_{spec.preset}".replace("-", "_"))


def build(spec: LRCNSpec) -> keras.Model:
    if spec.task not in ("classify", "regress"):
        raise SpecError(f"LRCN is for classify or regress, not {spec.task}")
    encoder = build_frame_encoder(spec)
    head = build_sequence_head(spec, int(encoder.output.shape[-1]))
    return assemble(spec, encoder, head)
