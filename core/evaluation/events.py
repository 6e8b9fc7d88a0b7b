"""Event-level metrics: how many ground-truth anomalies the flagged events hit, and how many false alarms.

Events and ground-truth intervals are half-open frame ranges ``[start, end)``: objects with ``start`` and
``end`` (the inference engine's events, a project's anomaly intervals) or ``(start, end)`` pairs. An event
and an interval overlap when they share at least one frame (``event.start < gt.end`` and
``gt.start < event.end``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.evaluation.errors import EvaluationError
from core.evaluation.inputs import as_intervals


@dataclass(frozen=True)
class EventCounts:
    """Counts behind event recall and false alarms per minute, for one video or summed over several.

    ``truth_hit`` of ``truth_total`` ground-truth intervals overlap at least one event; ``false_alarms`` of
    ``events_total`` events overlap no ground-truth interval; ``seconds`` is the footage duration and
    ``normal_seconds`` that of its frames outside every ground-truth interval (where an alarm is false).
    """

    truth_total: int
    truth_hit: int
    events_total: int
    false_alarms: int
    seconds: float
    normal_seconds: float = 0.0

    @property
    def recall(self) -> float | None:
        """Fraction of ground-truth intervals hit, in [0, 1]; ``None`` when there is no ground truth."""
        return self.truth_hit / self.truth_total if self.truth_total else None

    @property
    def false_alarms_per_minute(self) -> float | None:
        """False alarms per minute of footage; ``None`` for footage of zero length."""
        return self.false_alarms / (self.seconds / 60.0) if self.seconds > 0 else None

    @property
    def false_alarms_per_normal_minute(self) -> float | None:
        """False alarms per minute of the footage outside the anomalies; ``None`` when there is none."""
        return self.false_alarms / (self.normal_seconds / 60.0) if self.normal_seconds > 0 else None

    def __add__(self, other: EventCounts) -> EventCounts:
        return EventCounts(
            truth_total=self.truth_total + other.truth_total,
            truth_hit=self.truth_hit + other.truth_hit,
            events_total=self.events_total + other.events_total,
            false_alarms=self.false_alarms + other.false_alarms,
            seconds=self.seconds + other.seconds,
            normal_seconds=self.normal_seconds + other.normal_seconds,
        )

    @classmethod
    def total(cls, counts: Iterable[EventCounts]) -> EventCounts:
        """The sum of per-video counts (recall and false alarms per minute over all the footage)."""
        result = cls(0, 0, 0, 0, 0.0, 0.0)
        for item in counts:
            result = result + item
        return result


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def event_counts(events: Iterable[Any], truth: Iterable[Any], frame_count: int, fps: float,
                 normal_frames: int | None = None) -> EventCounts:
    """Event-level counts for one video of ``frame_count`` frames at ``fps`` frames per second.

    ``events`` are the flagged events (at the calibrated threshold), ``truth`` the video's ground-truth
    anomaly intervals; ``normal_frames``, the frames outside them, is counted from ``truth`` unless given
    (a caller measuring part of a video knows its own). Raises :class:`~core.evaluation.errors.EvaluationError` for an empty or reversed
    range, a non-positive ``fps`` or a negative ``frame_count``.
    """
    if not fps > 0:
        raise EvaluationError(f"fps: expected frames per second above 0, got {fps!r}")
    if int(frame_count) != frame_count or frame_count < 0:
        raise EvaluationError(f"frame_count: expected a frame count (0 or more), got {frame_count!r}")
    flagged = as_intervals(events, "event")
    gt = as_intervals(truth, "ground-truth interval")
    hit = sum(1 for interval in gt if any(_overlaps(interval, event) for event in flagged))
    false = sum(1 for event in flagged if not any(_overlaps(event, interval) for interval in gt))
    if normal_frames is None:
        abnormal = set()
        for start, end in gt:
            abnormal.update(range(max(0, start), min(int(frame_count), end)))
        normal_frames = int(frame_count) - len(abnormal)
    return EventCounts(
        truth_total=len(gt),
        truth_hit=hit,
        events_total=len(flagged),
        false_alarms=false,
        seconds=frame_count / fps,
        normal_seconds=normal_frames / fps,
    )
