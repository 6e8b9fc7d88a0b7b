"""The trainer's input: anything Keras ``fit`` accepts, wrapped with what the trainer must know.

``x`` / ``y`` are NumPy arrays (clips ``(n, frames, height, width, channels)`` float32 in [0, 1]
and targets: next frames of the same shape, the clips themselves for an autoencoder, class indices
``(n,)`` int, or values ``(n, outputs)`` float32), or ``x`` is a batched dataset yielding
``(x, y)`` (a ``tf.data.Dataset`` or ``keras.utils.PyDataset``) with ``y=None``. ``validation`` is
``(x_val, y_val)`` or such a dataset. ``batch_size`` is the batch size of a dataset (for clips/s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.models.specs import ModelSpec
from core.training.errors import TrainingError


@dataclass
class TrainingData:
    x: Any
    y: Any = None
    validation: Any = None
    batch_size: int | None = None
    description: dict[str, Any] = field(default_factory=dict)

    @property
    def is_arrays(self) -> bool:
        return isinstance(self.x, np.ndarray)

    def summary(self) -> dict[str, Any]:
        """What the run record stores about the data."""
        out = dict(self.description)
        if self.is_arrays:
            out.update(train_clips=int(len(self.x)), x_shape=list(self.x.shape[1:]))
            if isinstance(self.validation, tuple):
                out["validation_clips"] = int(len(self.validation[0]))
        return out

    def check(self, spec: ModelSpec) -> None:
        """Raise :class:`TrainingError` if array shapes do not fit ``spec``."""
        if not self.is_arrays:
            return
        if self.y is None:
            raise TrainingError("training data has clips but no targets (y)")
        if self.x.ndim != 5 or tuple(self.x.shape[1:]) != spec.input_shape:
            raise TrainingError(
                f"training clips have shape {tuple(self.x.shape[1:])} per clip but the model "
                f"({spec.family}, preset {spec.preset}) takes {spec.input_shape} (frames, height, width, channels)"
            )
        if len(self.y) != len(self.x):
            raise TrainingError(f"{len(self.x)} training clips but {len(self.y)} targets")
        if len(self.x) == 0:
            raise TrainingError("no training clips")
        raw = np.issubdtype(self.x.dtype, np.integer)
        if spec.input_dtype == "uint8" and self.x.dtype != np.uint8:
            raise TrainingError(f"the model takes raw uint8 frames (input_dtype='uint8') but the clips are "
                                f"{self.x.dtype}; pass the frames as decoded, or build the model with float32 input")
        if spec.input_dtype == "float32" and raw:
            raise TrainingError(f"the clips are {self.x.dtype} frames but the model takes float32 in [0, 1]: "
                                "scale them (frames / 255) or build the model with input_dtype='uint8'")
        if spec.task == "classify":
            labels = np.asarray(self.y)
            if labels.size and (labels.min() < 0 or labels.max() >= spec.outputs):
                raise TrainingError(f"class labels must be in [0, {spec.outputs}), found {labels.min()}..{labels.max()}")

    @classmethod
    def from_arrays(cls, x: np.ndarray, y: np.ndarray, validation_fraction: float = 0.0, **kwargs: Any) -> TrainingData:
        """Split the last ``validation_fraction`` of ``(x, y)`` off as validation data (no shuffling)."""
        n_val = int(round(len(x) * validation_fraction))
        if n_val and n_val < len(x):
            return cls(x[:-n_val], y[:-n_val], (x[-n_val:], y[-n_val:]), **kwargs)
        return cls(x, y, None, **kwargs)
