"""The no-learning flow baseline: how far a cell's speed is from that cell's speed in normal footage.

What every learned scorer is measured against (issue 18's bench puts it beside each of them)::

    flow_baseline_scores(normal_videos, test_videos, scale=0.5, cell=12, preset="medium") -> list[np.ndarray]

* dense optical flow between consecutive frames at half size (:mod:`core.motion.flow`: gray, OpenCV's DIS with
  ``preset`` ``ultrafast``, ``fast`` or ``medium``, the motion scorer's default);
* each 12-pixel cell's mean speed (pixels per frame at the working size, the ``speed`` channel);
* per cell, the mean and the standard deviation of that speed over every frame of ``normal_videos``;
* a test frame's score is the largest z-score over its cells, ``max((speed - mean) / (std + EPSILON))``.

``normal_videos`` and ``test_videos`` are sequences of videos: paths of video files or image folders,
:class:`~core.video.VideoSource` objects, or iterables of frames (``(H, W)`` gray or ``(H, W, 3)`` RGB uint8).
The working size is fixed by the first normal video (half its size); every other video is resized to it.
Returns one float32 ``(frames,)`` score array per test video, in order. Frame 0 of a video scores as frame 1
(:func:`~core.motion.flow.flow_features`). Nothing is learned beyond the two numbers per cell, and nothing is
saved: it is a reference, not a preset.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from core.motion.flow import (
    DEFAULT_CELL,
    DEFAULT_FLOW_PRESET,
    DEFAULT_SCALE,
    SPEED,
    FlowGrid,
    flow_features,
    video_frames,
)

#: Added to a cell's standard deviation (pixels per frame), so a cell that never moved in the normal footage
#: gives a large, finite z-score rather than a division by zero.
EPSILON = 0.05


def _frames_and_grid(video: Any, grid: FlowGrid | None, scale: float, cell: int, preset: str,
                     cancel: threading.Event | None) -> tuple[Iterator[np.ndarray], FlowGrid]:
    """The video's frames and the grid (made from its first frame when ``grid`` is ``None``)."""
    frames = iter(video_frames(video, cancel=cancel))
    if grid is not None:
        return frames, grid
    try:
        first = next(frames)
    except StopIteration:
        raise ValueError(f"{video}: no frames to take the flow's working size from") from None

    def chained() -> Iterator[np.ndarray]:
        yield first
        yield from frames

    return chained(), FlowGrid.for_frame(first.shape[0], first.shape[1], scale, cell, preset=preset)


def flow_baseline_scores(normal_videos: Sequence[Any], test_videos: Sequence[Any], scale: float = DEFAULT_SCALE,
                         cell: int = DEFAULT_CELL, preset: str = DEFAULT_FLOW_PRESET,
                         cancel: threading.Event | None = None) -> list[np.ndarray]:
    """Per-frame scores of each of ``test_videos`` (module doc): float32 ``(frames,)`` arrays, in order."""
    if not normal_videos:
        raise ValueError("the flow baseline needs at least one video of normal footage")
    grid = None
    total = total_sq = None
    count = 0
    for video in normal_videos:
        frames, grid = _frames_and_grid(video, grid, scale, cell, preset, cancel)
        for features in flow_features(frames, grid, cancel):
            speed = features[..., SPEED].astype(np.float64)
            if total is None:
                total, total_sq = np.zeros_like(speed), np.zeros_like(speed)
            total += speed
            total_sq += speed * speed
            count += 1
    if not count:
        raise ValueError("the normal videos gave no frames")
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean * mean, 0.0))
    scale_ = (std + EPSILON).astype(np.float32)
    mean = mean.astype(np.float32)
    results = []
    for video in test_videos:
        frames, _ = _frames_and_grid(video, grid, scale, cell, preset, cancel)
        scores = [float(np.max((features[..., SPEED] - mean) / scale_)) for features in flow_features(frames, grid, cancel)]
        results.append(np.asarray(scores, np.float32))
    return results
