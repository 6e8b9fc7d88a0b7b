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
class LogitResidual(keras.layers.Layer):
    """``[frames, change] -> sigmoid(logit(frames) + change)``: a next frame predicted as a change.

    ``frames`` in [0, 1] (clipped to [``epsilon``, 1 - ``epsilon``] before the logit); ``change`` are
    logits. Zero change gives the current frame exactly (up to ``epsilon``), so a predictor starts from
    "nothing moves" and learns only the motion; the sigmoid keeps the output in (0, 1) for binary
    cross-entropy, and its gradient never vanishes as clipping would on saturated pixels.
    """

    def __init__(self, epsilon: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        frames, change = inputs
        p = ops.clip(ops.cast(frames, change.dtype), self.epsilon, 1.0 - self.epsilon)
        return ops.sigmoid(ops.log(p) - ops.log(1.0 - p) + change)

    def compute_output_shape(self, input_shapes):
        return input_shapes[1]

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


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


@keras.saving.register_keras_serializable(package=PACKAGE)
class StackFrames(keras.layers.Layer):
    """``(batch, frames, H, W, C) -> (batch, H, W, window * C)``: the last ``window`` frames as channels.

    Oldest first; a clip shorter than ``window`` is padded with zero frames before its first (as a causal
    temporal kernel pads), so the layer takes clips of any length. A 2D network after it sees the motion
    between those frames at full resolution from its first convolution.
    """

    def __init__(self, window: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.window = int(window)

    def call(self, inputs):
        last = inputs
        if self.window > 1:  # zero frames before the first, for clips shorter than the window
            last = ops.concatenate([ops.zeros_like(inputs[:, :1])] * (self.window - 1) + [inputs], axis=1)
        stacked = ops.transpose(last[:, -self.window:], (0, 2, 3, 1, 4))
        shape = ops.shape(stacked)
        return ops.reshape(stacked, (-1, shape[1], shape[2], self.window * shape[4]))

    def compute_output_shape(self, input_shape):
        channels = None if input_shape[-1] is None else input_shape[-1] * self.window
        return (input_shape[0], input_shape[2], input_shape[3], channels)

    def get_config(self):
        return {**super().get_config(), "window": self.window}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LastFrame(keras.layers.Layer):
    """``(batch, frames, H, W, C) -> (batch, H, W, C)``: the clip's last frame."""

    def call(self, inputs):
        return inputs[:, -1]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *input_shape[2:])


@keras.saving.register_keras_serializable(package=PACKAGE)
class FrameDifferences(keras.layers.Layer):
    """Clips ``(batch, frames, H, W, C)`` -> ``(batch, frames - 1, H, W, C)``: ``|frame t+1 - frame t|``.

    What moved and how far, with the scene's look taken out (a model that pools over space still sees how
    far things moved). Inside the model, so a saved model takes the frames as every reader of clips gives
    them; it is :func:`core.preprocessing.differences.frame_differences` in the input's scale.
    """

    def call(self, inputs):
        return ops.abs(inputs[:, 1:] - inputs[:, :-1])

    def compute_output_shape(self, input_shape):
        frames = input_shape[1]
        return (input_shape[0], None if frames is None else frames - 1, *input_shape[2:])


@keras.saving.register_keras_serializable(package=PACKAGE)
class PerFrame(keras.layers.TimeDistributed):
    """``TimeDistributed`` that runs its layer once on all frames of the batch: ``(batch, frames, ...)`` is folded
    to ``(batch * frames, ...)``, the layer runs, and the result is unfolded.

    Keras 3's ``TimeDistributed`` calls its layer once per frame when the frame count is fixed (a Python loop
    over slices of the clip, then a stack), so a convolution runs ``frames`` times on a small batch and, in
    training, each slice's gradient writes a whole-clip tensor. Folding gives the same outputs (every layer it
    wraps maps each frame on its own; a ``BatchNormalization`` in training mode then takes its statistics over
    all frames of the batch at once, not frame by frame) for a fraction of the time: ``simvp``'s training step
    took about half as long (docs/models.md). Every builder in :mod:`core.models` uses it; ``.keras`` files
    saved with ``TimeDistributed`` load and run as before (the frame loop included).
    """

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) takes no mask")
        shape = ops.shape(inputs)
        dims = [shape[i] if d is None else d for i, d in enumerate(inputs.shape)]
        folded = ops.reshape(inputs, (-1, *dims[2:]))
        kwargs = {"training": training} if self.layer._call_has_training_arg else {}
        outputs = self.layer.call(folded, **kwargs)
        out_shape = ops.shape(outputs)
        out_dims = [out_shape[i] if d is None else d for i, d in enumerate(outputs.shape)]
        return ops.reshape(outputs, (-1, dims[1], *out_dims[1:]))


CUSTOM_OBJECTS = {"ResidualLogits": ResidualLogits, "LogitResidual": LogitResidual,
                  "RepeatChannels": RepeatChannels, "StackFrames": StackFrames, "LastFrame": LastFrame,
                  "FrameDifferences": FrameDifferences, "PerFrame": PerFrame}
