"""What a clip model takes, read from its run record or its input: the one home of that reading.

:class:`ClipInput` is the task, the clip length, how raw frames become the model's input (size, gray or
RGB) and the input's dtype. Scoring (:class:`~core.inference.anomaly.scoring.ScoringSpec`, reconstruction and
next-frame models) and window classification (:class:`~core.inference.labelling.windows.WindowSpec`, classifiers
and regressors) narrow it to the tasks they serve (``TASKS``) and say in their own words why a model of
another task does not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from core.inference.errors import ScoreError
from core.preprocessing.spec import PreprocessSpec
from core.tasks import TASKS
from core.video.source import VideoSource

#: Clip windows per model call unless told otherwise (scoring and window labelling alike).
DEFAULT_BATCH_SIZE = 8


@dataclass(frozen=True)
class ClipInput:
    """A clip model's input: ``task``, ``frames`` per clip, ``preprocess`` (size, gray or RGB) and
    ``input_dtype``: ``"uint8"`` (raw frames, the model scales them) or ``"float32"`` (frames in [0, 1])."""

    task: str
    frames: int
    preprocess: PreprocessSpec
    input_dtype: str = "float32"

    #: The tasks this kind of spec serves (subclasses narrow it).
    TASKS: ClassVar[tuple[str, ...]] = TASKS

    def __post_init__(self) -> None:
        if self.task not in self.TASKS:
            raise ScoreError(self.wrong_task())
        if isinstance(self.frames, bool) or not isinstance(self.frames, int) or self.frames < 1:
            raise ScoreError(f"clip length must be a number of frames >= 1, got {self.frames!r}")
        if self.input_dtype not in ("uint8", "float32"):
            raise ScoreError(f"model input must be uint8 or float32 frames, got {self.input_dtype!r}")
        if self.preprocess.subtract_mean:
            raise ScoreError("models trained on mean-subtracted frames cannot be run yet (the mean frame "
                             "is not stored with the run)")

    def wrong_task(self) -> str:
        """The message for a ``task`` outside :attr:`TASKS`."""
        return f"a {self.task} model cannot be used here: it needs a {' or '.join(self.TASKS)} model"

    @classmethod
    def from_run(cls, spec: Mapping[str, Any], data: Mapping[str, Any] | None = None):
        """From a run record's ``spec`` and ``data`` (the ``preprocess`` options training used, if any)."""
        try:
            preprocess = dict((data or {}).get("preprocess") or {})
            preprocess.update(height=int(spec["height"]), width=int(spec["width"]),
                              grayscale=int(spec.get("channels", 1)) == 1)
            return cls(task=str(spec["task"]), frames=int(spec["frames"]),
                       preprocess=PreprocessSpec.from_dict(preprocess),
                       input_dtype=str(spec.get("input_dtype", "float32")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ScoreError(f"the run's model spec cannot be used: {type(exc).__name__}: {exc}") from exc

    @classmethod
    def from_model(cls, model: Any, task: str):
        """From a Keras model's input ``(None, frames, height, width, channels)`` and its dtype."""
        shape = tuple(model.input_shape)
        if len(shape) != 5 or any(not isinstance(v, int) for v in shape[1:]):
            raise ScoreError(f"model input {shape} is not clips of frames (None, frames, height, width, channels)")
        _, frames, height, width, channels = shape
        dtype = str(getattr(model.inputs[0], "dtype", "float32"))
        return cls(task=task, frames=frames,
                   preprocess=PreprocessSpec(height=height, width=width, grayscale=channels == 1),
                   input_dtype="uint8" if "uint8" in dtype else "float32")

    def model_input(self, batch: np.ndarray) -> np.ndarray:
        """A uint8 clip batch ``(clips, frames, H, W, C)`` as the model takes it (uint8, or float32 in [0, 1])."""
        if self.input_dtype == "uint8":
            return batch
        return batch.astype(np.float32) * np.float32(1.0 / 255.0)


def resolve_stride(spec: ClipInput, stride: int | None) -> int:
    """The window stride to use: ``frames`` by default; 1 for prediction and the motion scorer (every frame is
    scored once); :class:`ScoreError` out of range."""
    if spec.task == "predict" or getattr(spec, "scorer", "model") == "motion":
        return 1
    if stride is None:
        return spec.frames
    if isinstance(stride, bool) or not isinstance(stride, int) or not 1 <= stride <= spec.frames:
        raise ScoreError(f"window stride must be a whole number of frames from 1 to the clip length "
                         f"{spec.frames}, got {stride!r} (a larger stride would leave frames out)")
    return stride


def too_short(source: VideoSource, frames: int, needed: int, what: str) -> ScoreError:
    """The error for a video of ``frames`` frames that needs ``needed`` for ``what``, naming the file."""
    return ScoreError(f"{source.path}: {frames} frames, fewer than the {needed} needed {what}")


def declared_frames(source: VideoSource) -> int | None:
    """The frame count the source's header declares, or ``None`` when it declares none (a progress total)."""
    try:
        return int(source.metadata.declared_frame_count) or None
    except (AttributeError, TypeError, ValueError):
        return None
