"""The preprocessing spec: how raw frames become model input."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import cv2

INTERPOLATIONS = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST, "cubic": cv2.INTER_CUBIC}
#: What a model is given of each frame: the frame itself, or its optical-flow speed map
#: (:mod:`core.motion.speed`: one channel, uint8, how fast each block moved since the frame before).
SIGNALS = ("frames", "speed")


@dataclass(frozen=True)
class PreprocessSpec:
    """Resize to ``(height, width)``, optionally to gray, then scale ``uint8`` to float32 in [0, 1].

    With ``subtract_mean`` the mean frame of the given footage (see
    :func:`core.preprocessing.frames.compute_mean_frame`) is subtracted, giving values in [-1, 1].

    ``signal`` ``"speed"`` gives, in place of each frame, its optical-flow speed map at the spec's size
    (:mod:`core.motion.speed`; gray only, no mean subtraction, ``interpolation`` unused). The default
    ``"frames"`` is left out of :meth:`to_dict` and :meth:`key`, so records and cache names made before the
    field existed stay the same.
    """

    height: int = 128
    width: int = 128
    grayscale: bool = True
    interpolation: str = "area"
    subtract_mean: bool = False
    signal: str = "frames"

    def __post_init__(self) -> None:
        if self.height < 1 or self.width < 1:
            raise ValueError(f"frame size must be positive, not {self.height}x{self.width}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {sorted(INTERPOLATIONS)}, not {self.interpolation!r}")
        if self.signal not in SIGNALS:
            raise ValueError(f"input signal must be one of {', '.join(SIGNALS)}, not {self.signal!r}")
        if self.signal == "speed" and (not self.grayscale or self.subtract_mean):
            raise ValueError("speed maps are one channel of speeds: they cannot be RGB or mean-subtracted")

    @property
    def channels(self) -> int:
        return 1 if self.grayscale else 3

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """``(height, width, channels)`` of one preprocessed frame."""
        return (self.height, self.width, self.channels)

    @property
    def color(self) -> str:
        """The color mode to ask a :class:`~core.video.VideoSource` for."""
        return "gray" if self.grayscale else "rgb"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.signal == "frames":
            del data["signal"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessSpec:
        known = {k: data[k] for k in ("height", "width", "grayscale", "interpolation", "subtract_mean", "signal") if k in data}
        return cls(**known)

    def key(self) -> str:
        """A short stable hash, e.g. for cache file names."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]
