"""Custom layers, registered so ``.keras`` files load with ``safe_mode=True`` (no Lambda layers).

Written with ``keras.ops`` only, so they run on every Keras backend.
"""

from __future__ import annotations

import keras
from keras import ops

PACKAGE = "framewatch"


@keras.saving.register_keras_serializable(package=PACKAGE)
class ResidualLogits(keras.layers.Layer):
    """``[frames, change] -> sigmoid(scale * (frames - 0.5) + change)``: a next frame predicted as a change.

    ``frames`` in [0, 1]; ``change`` are logits (zero keeps each pixel near its current value). Unlike
    clipping ``frames + change`` to [0, 1], the gradient never vanishes on saturated pixels.
    """

    def __init__(self, scale: float = 6.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        frames, change = inputs
        return ops.sigmoid(self.scale * (ops.cast(frames, change.dtype) - 0.5) + change)

    def compute_output_shape(self, input_shapes):
        return input_shapes[1]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package=PACKAGE)
class RepeatChannels(keras.layers.Layer):
    """``(..., 1) -> (..., times)``: feeds gray frames to a backbone that wants RGB."""

    def __init__(self, times: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.times = int(times)

    def call(self, inputs):
        return ops.repeat(inputs, self.times, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] * self.times)

    def get_config(self):
        return {**super().get_config(), "times": self.times}


CUSTOM_OBJECTS = {"ResidualLogits": ResidualLogits, "RepeatChannels": RepeatChannels}
