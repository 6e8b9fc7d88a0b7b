"""Flagged events: runs of abnormal frames, found in a whole series or frame by frame as scores arrive.

A frame is **abnormal** when its score is above the threshold (``score > threshold``, the one flag rule:
:func:`core.evaluation.threshold.above_threshold`; scores are
abnormality-like, higher = less regular: errors, smoothed errors, or ``sa``; to flag on regularity
``sr < r``, flag ``sa > 1 - r``). Events come from the abnormal frames in two steps:

1. **minimum run**: a run of consecutive abnormal frames becomes an event only if it is at least
   ``min_run`` frames long (``min_run=1``: the threshold alone, the reference's first flagging mode;
   ``min_run=k``: its second mode, k consecutive abnormal frames). A shorter run is dropped, also one cut
   short by the end of the video.
2. **merge gap**: events separated by at most ``merge_gap`` normal frames become one event spanning both
   (and the frames between them). ``merge_gap=0`` merges nothing (two runs always have a normal frame
   between them).

Each :class:`Event` covers frames ``[start, end)`` (0-based, half-open, as project intervals), and gives the
frame with the highest score in that span (the first one on ties) and the mean score over the span.
:func:`flag_events` does this on a whole array in numpy (re-flagging 100k frames with a new threshold takes
milliseconds); :class:`EventTracker` does it frame by frame and hands each event over as soon as no later
frame can change it, with the same events as :func:`flag_events` to the last bit.

:func:`attach_verdicts` joins the analyst's verdicts (stored in the project) to events.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.threshold import above_threshold
from core.inference.anomaly.regularity import as_scores, check_event_rule
from core.inference.errors import ScoreError
from core.project.entities import Verdict


@dataclass(frozen=True)
class Event:
    """Frames ``[start, end)`` of video ``video_id`` flagged abnormal.

    ``peak_frame`` is the frame of the highest score in the span and ``peak_score`` that score;
    ``mean_score`` the mean over the whole span (merged gaps included), in the units of the scores flagged.
    ``verdict`` is the analyst's verdict attached by :func:`attach_verdicts` (``None``: none yet); it is
    not stored with the event (verdicts live in the project).
    """

    video_id: str
    start: int
    end: int
    peak_frame: int
    peak_score: float
    mean_score: float
    verdict: Verdict | None = None

    @property
    def length(self) -> int:
        """Frames covered: ``end - start``."""
        return self.end - self.start

    @property
    def verdict_is_exact(self) -> bool:
        """True when the attached verdict was recorded on exactly this span (not carried over from an overlap)."""
        return self.verdict is not None and (self.verdict.start, self.verdict.end) == (self.start, self.end)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, without the verdict."""
        return {"video_id": self.video_id, "start": self.start, "end": self.end, "peak_frame": self.peak_frame,
                "peak_score": self.peak_score, "mean_score": self.mean_score}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """The event :meth:`to_dict` wrote; :class:`ScoreError` saying what is wrong."""
        if not isinstance(data, Mapping):
            raise ScoreError(f"event: a JSON {type(data).__name__}, not an object")
        missing = [name for name in ("video_id", "start", "end", "peak_frame", "peak_score", "mean_score")
                   if name not in data]
        if missing:
            raise ScoreError(f"event: no {', '.join(missing)}")
        if not isinstance(data["video_id"], str):
            raise ScoreError(f"event: 'video_id' is {data['video_id']!r}, not text")
        frames = {}
        for name in ("start", "end", "peak_frame"):
            if isinstance(data[name], bool) or not isinstance(data[name], int):
                raise ScoreError(f"event: {name!r} is {data[name]!r}, not a frame number")
            frames[name] = data[name]
        if not 0 <= frames["start"] <= frames["peak_frame"] < frames["end"]:
            raise ScoreError(f"event: frames start {frames['start']}, peak {frames['peak_frame']}, "
                             f"end {frames['end']} are not in order (start <= peak < end)")
        scores = {}
        for name in ("peak_score", "mean_score"):
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ScoreError(f"event: {name!r} is {value!r}, not a number")
            scores[name] = float(value)
        return cls(video_id=data["video_id"], **frames, **scores)


def check_flagging(threshold: float, min_run: int, merge_gap: int) -> float:
    """The threshold as a float; :class:`ScoreError` for a NaN threshold, ``min_run < 1`` or ``merge_gap < 0``."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.floating | np.integer) \
            or math.isnan(threshold):
        raise ScoreError(f"threshold must be a number, got {threshold!r}")
    check_event_rule(min_run, merge_gap)
    return float(threshold)


def flag_events(scores: Any, threshold: float, min_run: int = 1, merge_gap: int = 0,
                video_id: str = "", first_frame: int = 0) -> list[Event]:
    """The events of one video's per-frame ``scores`` (1-D, frame ``first_frame + i`` at index ``i``), in
    frame order.

    See the module doc for the rule. ``first_frame`` numbers the frames of a tail of a video (what a
    :class:`~core.inference.anomaly.flagging_session.FlaggingSession` flags again after new frames), as if the
    frames before it were normal. :class:`ScoreError` for a NaN or infinite score or bad parameters.
    """
    threshold = check_flagging(threshold, min_run, merge_gap)
    s = as_scores(scores)
    abnormal = np.concatenate(([0], above_threshold(s, threshold).astype(np.int8), [0]))
    edges = np.diff(abnormal)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = ends - starts >= min_run
    starts, ends = starts[keep], ends[keep]
    if starts.size == 0:
        return []
    breaks = np.flatnonzero(starts[1:] - ends[:-1] > merge_gap) + 1
    event_starts = starts[np.concatenate(([0], breaks))]
    event_ends = ends[np.concatenate((breaks - 1, [ends.size - 1]))]
    events = []
    for start, end in zip(event_starts.tolist(), event_ends.tolist(), strict=True):
        span = s[start:end]
        peak = int(np.argmax(span))
        events.append(Event(video_id, first_frame + start, first_frame + end, first_frame + start + peak,
                            float(span[peak]), math.fsum(span.tolist()) / (end - start)))
    return events


class _Span:
    """A running span of frames: first frame, length, exact sum (Shewchuk partials, as ``math.fsum``), peak."""

    __slots__ = ("start", "length", "partials", "peak_frame", "peak_score")

    def __init__(self, start: int) -> None:
        self.start = start
        self.length = 0
        self.partials: list[float] = []
        self.peak_frame = -1
        self.peak_score = -math.inf

    @property
    def end(self) -> int:
        return self.start + self.length

    def add(self, score: float) -> None:
        if score > self.peak_score:
            self.peak_frame, self.peak_score = self.end, score
        self.length += 1
        _add_exact(self.partials, score)

    def absorb(self, later: _Span) -> None:
        """Append ``later``, which starts where this span ends."""
        if later.peak_score > self.peak_score:
            self.peak_frame, self.peak_score = later.peak_frame, later.peak_score
        self.length += later.length
        for partial in later.partials:
            _add_exact(self.partials, partial)

    def event(self, video_id: str) -> Event:
        return Event(video_id, self.start, self.end, self.peak_frame, self.peak_score,
                     math.fsum(self.partials) / self.length)


def _add_exact(partials: list[float], x: float) -> None:
    """Add ``x`` to a list of non-overlapping partial sums whose exact total is the sum of everything added
    (Shewchuk's algorithm, the one behind ``math.fsum``): the mean of a streamed event then equals the
    batch one to the last bit. The list stays a few items long."""
    i = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        high = x + y
        low = y - (high - x)
        if low:
            partials[i] = low
            i += 1
        x = high
    partials[i:] = [x]


class EventTracker:
    """:func:`flag_events` frame by frame, for live scoring: feed each frame's score to :meth:`push`.

    ``push`` returns the events that frame closed (an event closes once the frames after it can no
    longer extend it: ``merge_gap`` normal frames have passed, or a run too far away started), and
    :meth:`finish` closes the event still open when the video ends. Memory does not grow with the video.
    """

    def __init__(self, threshold: float, min_run: int = 1, merge_gap: int = 0, video_id: str = "") -> None:
        self.threshold = check_flagging(threshold, min_run, merge_gap)
        self.min_run = int(min_run)
        self.merge_gap = int(merge_gap)
        self.video_id = video_id
        self.frames = 0
        self._event: _Span | None = None  # the open event: it may still grow
        self._tail: _Span | None = None  # frames after the open event's end, not (yet) part of it
        self._run: _Span | None = None  # the current abnormal run, until it reaches min_run

    def push(self, score: float) -> list[Event]:
        """Take the next frame's score; return the events it closed (none or one), in frame order."""
        value = float(score)
        if not math.isfinite(value):
            raise ScoreError(f"scores: frame {self.frames} is {value} (every score must be a finite number)")
        t = self.frames
        self.frames += 1
        event = self._event
        abnormal = above_threshold(value, self.threshold)
        if event is not None and abnormal and self._run is None and event.end == t:
            event.add(value)  # the event's run goes on
            return []
        if event is not None:
            self._tail = self._tail or _Span(t)
            self._tail.add(value)
        if abnormal:
            self._run = self._run or _Span(t)
            self._run.add(value)
            if self._run.length >= self.min_run:  # a run long enough: it joins the open event or opens one
                if event is not None:
                    event.absorb(self._tail)
                else:
                    self._event = self._run
                self._run = self._tail = None
                return []
        else:
            self._run = None
        if event is not None:
            next_start = self._run.start if self._run is not None else t + 1
            if next_start > event.end + self.merge_gap:
                self._event = self._tail = None
                return [event.event(self.video_id)]
        return []

    def extend(self, scores: Iterable[float]) -> list[Event]:
        """:meth:`push` every score of ``scores`` in turn; the events they closed."""
        closed = []
        for score in scores:
            closed.extend(self.push(score))
        return closed

    def finish(self) -> list[Event]:
        """The video ended: close the open event, if any (a run shorter than ``min_run`` is dropped)."""
        event, self._event, self._tail, self._run = self._event, None, None, None
        return [event.event(self.video_id)] if event is not None else []


def attach_verdicts(events: Iterable[Event], verdicts: Iterable[Verdict], run_id: str | None = None) -> list[Event]:
    """``events`` (flagged by run ``run_id``) with the project's verdicts attached; events keep their order.

    A verdict is recorded on one event: (run, video, start, end), see :attr:`Verdict.event_key`, and it
    belongs to that run: only verdicts of run ``run_id`` attach (another model's events, even on the same
    frames, were not judged, so they show no verdict and no note). An event gets, in this order of preference:

    1. the verdict recorded on exactly this event (same run, video, start and end);
    2. else a verdict of the same run and video whose span overlaps the event's (it carries over when a new
       threshold, min run or merge gap moves the event's ends); among those, the largest overlap in frames,
       then the latest ``updated``;
    3. else none (``verdict=None``).

    :attr:`Event.verdict_is_exact` tells case 1 from case 2. Verdicts are not changed or consumed: one verdict
    can be attached to several events (a long event split in two by a higher threshold).
    """
    by_video: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        if verdict.run_id == run_id:
            by_video.setdefault(verdict.video_id, []).append(verdict)
    attached = []
    for event in events:
        best: tuple | None = None
        chosen: Verdict | None = None
        for verdict in by_video.get(event.video_id, ()):
            overlap = min(event.end, verdict.end) - max(event.start, verdict.start)
            if overlap <= 0:
                continue
            exact = (verdict.start, verdict.end) == (event.start, event.end)
            rank = (exact, overlap, verdict.updated)
            if best is None or rank > best:
                best, chosen = rank, verdict
        attached.append(dataclasses.replace(event, verdict=chosen))
    return attached
