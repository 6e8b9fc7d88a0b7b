"""Seconds to frame indices, one rule for every part of Framewatch (cuts, labels, CSV imports).

A span ``[start, end)`` in seconds holds the frames whose display starts in it. Frame ``k`` starts at
its timestamp ``t_k`` (seconds after the first frame). On an evenly timed file ``t_k = k / fps``, and the
rule is ``start <= k / fps < end``: ``ceil(seconds * fps)``. On a file with variable or gapped
timestamps the same rule is applied to the frames' real timestamps (``VideoSource.frame_times``), so a
time names the frame the player shows at that time, not frame ``seconds * fps``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Slack for times that are a whole frame up to floating-point error (0.1 s * 30 fps = 3.0000000000000004).
_EPSILON = 1e-6


def first_frame_at(seconds: float, fps: float, times: Sequence[float] | np.ndarray | None = None) -> int:
    """The first frame whose display starts at or after ``seconds``.

    ``times``: every frame's timestamp in seconds after the first frame's (ascending), or ``None`` for
    frames exactly ``1 / fps`` apart, where the answer is ``ceil(seconds * fps)``. Times are compared in
    frame units (``t * fps``) with the same slack, so evenly spaced ``times`` give exactly that answer;
    times before the first frame or after the last count on at ``1 / fps`` per frame.
    """
    if not math.isfinite(seconds):
        raise ValueError(f"time must be a finite number of seconds, not {seconds!r}")
    target = seconds * fps - _EPSILON
    if not math.isfinite(target):  # 1e308 s * 25 fps: no video is that long
        raise ValueError(f"{seconds:g} s is beyond the end of any video")
    if times is None or len(times) == 0 or target <= 0:
        return math.ceil(target)
    positions = np.asarray(times, np.float64) * fps
    last = float(positions[-1])
    if target > last:  # past the last frame: frames that would follow it at 1/fps
        return len(positions) - 1 + math.ceil(target - last)
    return int(np.searchsorted(positions, target, side="left"))


def seconds_to_frames(
    start: float, end: float, fps: float, times: Sequence[float] | np.ndarray | None = None
) -> tuple[int, int]:
    """``[start, end)`` in seconds as the frame range ``[first, stop)`` of the frames that start in it
    (``times`` as in :func:`first_frame_at`)."""
    return first_frame_at(start, fps, times), first_frame_at(end, fps, times)
