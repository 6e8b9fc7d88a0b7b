"""The error-level model: how large a next-frame predictor's squared error is on normal footage, per pixel.

A predictor errs more where normal things move fast or near the camera (walkers at the bottom of a scene,
a crowd) than where they move slowly or far away. One threshold over many videos then flags busy normal
frames before a small, distant intruder. The error-level model learns, from the predictor's errors on
the project's normal (train- and val-split) footage, the squared error to expect at each pixel **given the input
clip**; a frame is then scored by its squared error divided by that level (how many times the normal
error it is), not by the squared error itself.

It is a small convolutional network on the predictor's input clip (the ``frames`` frames stacked as
channels, dilated 3x3 convolutions, about 7k parameters), with one output per pixel: ``log`` of the
expected squared error. It is trained by the Gaussian negative log-likelihood of the observed squared
error ``e``, ``e / v + log v`` with ``v = exp(output) + FLOOR``, whose minimum over ``v`` is the mean of
``e``: the network learns the mean squared error of inputs like this one, per pixel. Written with
``keras.layers`` and ``keras.ops`` only, registered, so it loads with ``safe_mode=True`` on every backend.

At scoring time the expected level is never taken below :data:`SCORE_FLOOR` (a squared error of 1e-4 on the
[0, 1] scale, an RMS error of 2.6 gray levels: about a camera's noise), so static background, where the
predictor is nearly exact, does not turn noise into large ratios.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.models.layers import PACKAGE

#: The floor of the expected squared error inside the training loss (keeps ``e / v`` finite).
FLOOR = 1e-5
#: The floor of the expected squared error when frames are scored (module doc).
SCORE_FLOOR = 1e-4
#: Filters of each convolution, and the dilation of each 3x3 convolution in turn.
FILTERS = 16
DILATIONS = (1, 1, 2, 4)


def _register():
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package=PACKAGE)
    def error_level_nll(y_true, y_pred):
        """Gaussian negative log-likelihood of squared errors ``y_true`` under log-levels ``y_pred``."""
        level = ops.exp(ops.cast(y_pred, "float32")) + FLOOR
        return ops.mean(ops.cast(y_true, "float32") / level + ops.log(level))

    return error_level_nll


_LOSS: Any = None


def error_level_loss():
    """The registered training loss (module doc)."""
    global _LOSS
    if _LOSS is None:
        _LOSS = _register()
    return _LOSS


def build_error_level_model(frames: int, height: int, width: int, channels: int = 1,
                            mean_error: float = 1e-4, seed: int = 0) -> Any:
    """The error-level network for ``uint8`` clips ``(frames, height, width, channels)``; its output is
    ``(height, width, 1)``, the log of the expected squared error, starting at ``log(mean_error)``."""
    import keras
    from keras import layers

    import core.models.frame_input as frame_input

    error_level_loss()
    clips = keras.Input(shape=(frames, height, width, channels), dtype="uint8", name="clips")
    x = frame_input.FrameScaling(name="frame_scaling", dtype="float32")(clips)
    x = layers.Permute((2, 3, 1, 4), dtype="float32")(x)
    x = layers.Reshape((height, width, frames * channels), dtype="float32")(x)
    for i, dilation in enumerate(DILATIONS):
        x = layers.Conv2D(FILTERS, 3, padding="same", dilation_rate=dilation, activation="relu", dtype="float32",
                          kernel_initializer=keras.initializers.HeNormal(seed=seed + i), name=f"level_conv{i}")(x)
    start = math.log(max(float(mean_error), FLOOR))
    log_level = layers.Conv2D(1, 1, dtype="float32", kernel_initializer="zeros",
                              bias_initializer=keras.initializers.Constant(start), name="log_level")(x)
    return keras.Model(clips, log_level, name="error_level")


def compile_error_level(model: Any, learning_rate: float = 1e-3) -> Any:
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=error_level_loss())
    return model


def expected_squared_error(model: Any, clips_uint8: np.ndarray) -> np.ndarray:
    """The expected squared error ``(clips, H, W)`` float32 of the frame after each clip, floored at
    :data:`SCORE_FLOOR`; ``clips_uint8`` is ``(clips, frames, H, W, C)``."""
    log_level = np.asarray(model.predict_on_batch(clips_uint8), dtype=np.float32)
    if log_level.ndim == 4:
        log_level = log_level[..., 0]
    return np.exp(np.minimum(log_level, 0.0)) + np.float32(SCORE_FLOOR)
