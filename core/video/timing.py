"""Seconds to frame indices, one rule for every part of Framewatch (cuts, labels, CSV imports).

Frame ``k`` is displayed from ``k / fps`` on, so a span ``[start, end)`` in seconds holds the frames
whose display starts in it: ``k`` with ``start <= k / fps < end``.
"""

from __future__ import annotations

import math

#: Slack for times that are a whole frame up to floating-point error (0.1 s * 30 fps = 3.0000000000000004).
_EPSILON = 1e-6


def first_frame_at(seconds: float, fps: float) -> int:
    """The first frame whose display starts at or after ``seconds`` (``ceil(seconds * fps)``)."""
    if not math.isfinite(seconds):
        raise ValueError(f"time must be a finite number of seconds, not {seconds!r}")
    return math.ceil(seconds * fps - _EPSILON)


def seconds_to_frames(start: float, end: float, fps: float) -> tuple[int, int]:
    """``[start, end)`` in seconds as the frame range ``[first, stop)`` of the frames that start in it."""
    return first_frame_at(start, fps), first_frame_at(end, fps)
