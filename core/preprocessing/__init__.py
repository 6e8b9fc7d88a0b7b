"""From raw frames to model input: resize, gray, scale, mean frame, clip windows, shifted pairs.

Shapes: a frame is ``(height, width, channels)`` float32 in [0, 1]; a clip batch is
``(clips, frames, height, width, channels)``.
"""

from core.preprocessing.frames import (
    compute_mean_frame,
    iter_preprocessed,
    iter_resized,
    preprocess_frame,
    resize_frame,
    to_float,
)
from core.preprocessing.spec import PreprocessSpec
from core.preprocessing.windows import (
    clip_windows,
    iter_clip_windows,
    shifted_pairs,
    window_count,
    window_starts,
)

__all__ = [
    "PreprocessSpec",
    "clip_windows",
    "compute_mean_frame",
    "iter_clip_windows",
    "iter_preprocessed",
    "iter_resized",
    "preprocess_frame",
    "resize_frame",
    "shifted_pairs",
    "to_float",
    "window_count",
    "window_starts",
]
