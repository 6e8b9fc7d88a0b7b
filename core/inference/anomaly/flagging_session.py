"""A flagging session: one video's error series and how it is flagged, the model the review views draw.

:class:`FlaggingSession` holds what reviewing one video's scores needs and nothing of Qt:

* the **series**: the per-frame errors ``e(t)`` (float32, frame ``t`` at index ``t``), grown by
  :meth:`~FlaggingSession.append` while a scoring job streams frames in, or set whole
  (:meth:`~FlaggingSession.set_errors`, cached scores), and the same errors **smoothed** as the threshold
  smooths them (:meth:`Threshold.smooth <core.inference.anomaly.regularity.Threshold.smooth>`);
* the **flagging** now (:class:`Flagging`: the threshold, calibrated on normal footage or set by hand, the
  minimum run and the merge gap) and the flagging **stored** with the run (its ``events.json``), so a view
  can say whether what it shows is kept, and :meth:`~FlaggingSession.revert` goes back to it;
* the **events** flagged on the smoothed series (:func:`~core.inference.anomaly.events.flag_events`, the one rule);
* the **ground truth** anomaly intervals and the frame-level ROC AUC of the smoothed series against them
  (``None`` without frames of both kinds).

Listeners (:meth:`~FlaggingSession.subscribe`) are plain callables told a :class:`SessionChange` after
every change, on the thread that made it; views redraw what it names.

**Appending costs the new frames, not the video.** A flush of new frames touches only the tail:

* smoothing recomputes the frames whose window holds a new frame (the new frames, and for a centred
  average the ``window // 2`` before them), on a slice that starts ``window`` frames earlier, so the
  values equal a smoothing of the whole series to the last bit;
* events before the change that no later frame can extend or merge with are kept, and the rest is
  flagged again from the start of the first event that can change (or of the abnormal run the new frames
  may extend): the events equal :func:`flag_events` on the whole series, means included, to the last bit
  (a property test checks it). While one event stays open across flushes (a threshold below the whole
  tail), its frames are flagged again each flush: the cost is the new frames plus that open event;
* the AUC is the Mann-Whitney U count of (abnormal, normal) frame pairs, kept up to date by binary
  searches of the new frames in the sorted scores of each class (and one merge of each sorted array),
  equal to :func:`core.evaluation.roc.roc_auc` of the whole series.

A new threshold value re-flags the whole series (numpy, milliseconds for 100k frames); new smoothing or
ground truth also smooths or ranks it again. ``bench flagging`` measures a flush on a one-hour video
(docs/benchmarks.md).
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.inputs import as_intervals
from core.inference.anomaly.events import Event, check_flagging, flag_events
from core.inference.anomaly.events_file import RunEvents
from core.inference.anomaly.regularity import Threshold, as_scores, moving_average

#: Frames whose smoothed value changes, above which the AUC's sorted scores are built again, not edited.
_AUC_EDIT_LIMIT = 256


@dataclass(frozen=True)
class Flagging:
    """How a series is flagged: ``threshold`` (error units, with its smoothing), ``min_run`` consecutive
    frames above it for an event, events at most ``merge_gap`` normal frames apart merged.

    :class:`ScoreError` for a NaN threshold, ``min_run < 1`` or ``merge_gap < 0``.
    """

    threshold: Threshold
    min_run: int = 1
    merge_gap: int = 0

    def __post_init__(self) -> None:
        check_flagging(self.threshold.value, self.min_run, self.merge_gap)
        object.__setattr__(self, "min_run", int(self.min_run))
        object.__setattr__(self, "merge_gap", int(self.merge_gap))

    @classmethod
    def stored(cls, run_events: RunEvents | None) -> Flagging | None:
        """The flagging a run's ``events.json`` holds (``None`` without a file or a threshold in it)."""
        if run_events is None or run_events.threshold is None:
            return None
        return cls(run_events.threshold, int(run_events.flagging.get("min_run", 1)),
                   int(run_events.flagging.get("merge_gap", 0)))

    def flags_like(self, other: Flagging | None) -> bool:
        """Whether ``other`` flags exactly as this one: the same threshold value and smoothing, min run and
        merge gap (a calibrated and a hand-set threshold of one value flag alike)."""
        if other is None:
            return False
        mine, theirs = self.threshold, other.threshold
        return ((mine.value, mine.window, mine.smoothing, self.min_run, self.merge_gap)
                == (theirs.value, theirs.window, theirs.smoothing, other.min_run, other.merge_gap))


@dataclass(frozen=True)
class SessionChange:
    """What one change of a :class:`FlaggingSession` touched (a view redraws these, nothing else).

    ``series_from``: the first frame whose (smoothed) value changed, ``None`` if the series did not;
    ``events``: the events changed; ``flagging``: the flagging now or the one stored changed (threshold,
    min run, merge gap, kept or not); ``truth``: the ground truth changed; ``video``: the session was
    cleared for another video (everything changed).
    """

    series_from: int | None = None
    events: bool = False
    flagging: bool = False
    truth: bool = False
    video: bool = False


Listener = Callable[[SessionChange], None]


class FlaggingSession:
    """One video's errors, flagging, events and AUC (see the module doc). Not thread-safe: one thread
    (a GUI's) makes every change."""

    def __init__(self, video_id: str = "") -> None:
        self.video_id = video_id
        self._errors = np.zeros(0, np.float32)  # grown by doubling; frames >= self._frames are unused
        self._smoothed = np.zeros(0, np.float64)
        self._frames = 0
        self._flagging: Flagging | None = None
        self._stored: Flagging | None = None
        self._events: list[Event] = []
        self._truth: list[tuple[int, int]] = []
        self._auc = _PairCount()
        self._listeners: list[Listener] = []

    # -- listening ----------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(change)`` after every change; returns a call that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _tell(self, change: SessionChange) -> None:
        for listener in list(self._listeners):
            listener(change)

    # -- what it holds ------------------------------------------------------------------------------
    @property
    def frames(self) -> int:
        """Frames in the series (scored so far)."""
        return self._frames

    @property
    def errors(self) -> np.ndarray:
        """The errors, float32 ``(frames,)`` (a copy)."""
        return self._errors[:self._frames].copy()

    @property
    def smoothed(self) -> np.ndarray:
        """The errors smoothed as the threshold smooths them (unsmoothed without a threshold): float64
        ``(frames,)``, the series events are flagged on. A view of the session's buffer: do not modify."""
        return self._smoothed[:self._frames]

    @property
    def flagging(self) -> Flagging | None:
        """The flagging now (``None`` until a threshold is known)."""
        return self._flagging

    @property
    def threshold(self) -> Threshold | None:
        return None if self._flagging is None else self._flagging.threshold

    @property
    def min_run(self) -> int:
        return 1 if self._flagging is None else self._flagging.min_run

    @property
    def merge_gap(self) -> int:
        return 0 if self._flagging is None else self._flagging.merge_gap

    @property
    def stored(self) -> Flagging | None:
        """The flagging stored with the run (its ``events.json``), ``None`` if none is."""
        return self._stored

    @property
    def kept(self) -> bool:
        """Whether the flagging now is the one stored with the run."""
        return self._flagging is not None and self._flagging.flags_like(self._stored)

    @property
    def events(self) -> list[Event]:
        """The events flagged now, in frame order (a new list)."""
        return list(self._events)

    @property
    def ground_truth(self) -> list[tuple[int, int]]:
        """The video's anomaly intervals, ``(start, end)`` frames ``[start, end)``."""
        return list(self._truth)

    @property
    def auc(self) -> float | None:
        """Frame-level ROC AUC of the smoothed series against the ground truth; ``None`` without frames of
        both kinds."""
        return self._auc.auc()

    # -- the series ---------------------------------------------------------------------------------
    def clear(self, video_id: str = "") -> None:
        """Forget the series, events and ground truth: the session is now video ``video_id``'s (the
        flagging and the stored flagging stay: they are the run's)."""
        self.video_id = video_id
        self._errors = np.zeros(0, np.float32)
        self._smoothed = np.zeros(0, np.float64)
        self._frames = 0
        self._events = []
        self._truth = []
        self._auc = _PairCount()
        self._tell(SessionChange(series_from=0, events=True, truth=True, video=True))

    def set_errors(self, errors: Any) -> None:
        """The whole series at once (frame ``t`` at index ``t``); unchanged values cost one comparison."""
        values = np.asarray(errors, np.float32).reshape(-1)
        as_scores(values, "errors")
        if values.shape[0] == self._frames and np.array_equal(values, self._errors[:self._frames]):
            return  # what a finished scoring job hands over: the frames it streamed
        if values.shape[0] < self._frames:  # a shorter series: start again
            self._frames = 0
            self._events = []
            self._auc = _PairCount()
        self.append(0, values)

    def append(self, first_frame: int, errors: Any) -> None:
        """Set the errors of frames ``first_frame ..`` (a scoring job's latest frames, or frames scored
        again) and flag the tail they change. :class:`ScoreError` for a non-finite error; ``ValueError``
        for a ``first_frame`` past the frames held (the series has no gaps)."""
        values = as_scores(np.asarray(errors, np.float32).reshape(-1), "errors").astype(np.float32)
        first = int(first_frame)
        if not 0 <= first <= self._frames:
            raise ValueError(f"frames {first}.. follow frame {self._frames - 1}: the series has no gaps")
        if values.size == 0:
            return
        end = first + values.shape[0]
        if end > self._errors.shape[0]:  # grow by doubling: appends cost O(1) per frame
            size = max(end, 2 * self._errors.shape[0], 256)
            self._errors = _grown(self._errors, size, self._frames)
            self._smoothed = _grown(self._smoothed, size, self._frames)
        old_frames = self._frames
        self._errors[first:end] = values
        self._frames = max(self._frames, end)
        since = self._smooth_from(max(0, first - self._reach_ahead()), old_frames)
        events = self._reflag_from(since, old_frames)
        self._tell(SessionChange(series_from=since, events=events))

    # -- the flagging -------------------------------------------------------------------------------
    def set_flagging(self, flagging: Flagging | None) -> None:
        """Flag with ``flagging`` from now on (``None``: no threshold, nothing flagged)."""
        if flagging == self._flagging:
            return
        old_window = self._window()
        self._flagging = flagging
        since = None
        if self._window() != old_window:
            since = 0
            self._smooth_from(0, self._frames)
        events = self._reflag_all()
        self._tell(SessionChange(series_from=since, events=events, flagging=True))

    def set_threshold(self, threshold: Threshold) -> None:
        """Flag at ``threshold`` (a calibrated one, or one stored with the run), keeping min run and merge gap."""
        self.set_flagging(Flagging(threshold, self.min_run, self.merge_gap))

    def move_threshold(self, value: float) -> None:
        """Flag at ``value`` (error units), set by hand: the threshold becomes of kind ``"manual"``, with the
        same smoothing. ``ValueError`` before any threshold is known (no smoothing to keep)."""
        if self._flagging is None:
            raise ValueError("no threshold yet: a calibrated or stored one comes first")
        value = float(value)
        threshold = self._flagging.threshold
        if value == threshold.value:
            return
        self.set_flagging(dataclasses.replace(self._flagging,
                                              threshold=dataclasses.replace(threshold, value=value, kind="manual")))

    def set_run_and_gap(self, min_run: int, merge_gap: int) -> None:
        """Flag with this minimum run and merge gap (frames). ``ValueError`` before any threshold is known."""
        if self._flagging is None:
            raise ValueError("no threshold yet: a calibrated or stored one comes first")
        self.set_flagging(Flagging(self._flagging.threshold, min_run, merge_gap))

    def set_stored(self, flagging: Flagging | None) -> None:
        """The flagging now stored with the run (read from its ``events.json``, or just kept)."""
        if flagging != self._stored:
            self._stored = flagging
            self._tell(SessionChange(flagging=True))

    def revert(self) -> None:
        """Flag as stored with the run again (nothing happens when nothing is stored)."""
        if self._stored is not None:
            self.set_flagging(self._stored)

    # -- ground truth -------------------------------------------------------------------------------
    def set_ground_truth(self, intervals: Iterable[Any]) -> None:
        """The video's anomaly intervals (``(start, end)`` pairs or interval entities), AUC measured again."""
        truth = as_intervals(intervals, "ground truth")
        if truth == self._truth:
            return
        self._truth = truth
        self._auc = _PairCount()
        self._auc.add(self.smoothed, self._labels(0, self._frames))
        self._tell(SessionChange(truth=True))

    # -- internals ----------------------------------------------------------------------------------
    def _window(self) -> tuple[int, str]:
        threshold = self.threshold
        return (1, "causal") if threshold is None else (threshold.window, threshold.smoothing)

    def _reach_ahead(self) -> int:
        """Frames after ``t`` that frame ``t``'s smoothed value reads."""
        window, mode = self._window()
        return window // 2 if mode == "centred" else 0

    def _smooth_from(self, since: int, old_frames: int) -> int:
        """Smooth frames ``since ..`` again (every frame after it keeps its old value otherwise) and update
        the AUC's pairs; returns ``since``."""
        window, mode = self._window()
        n = self._frames
        before = window - 1 - self._reach_ahead()  # frames before t a smoothed value reads
        start = max(0, since - before)
        old = self._smoothed[since:old_frames].copy()
        self._smoothed[since:n] = moving_average(self._errors[start:n], window, mode)[since - start:]
        if self._truth:
            if old.size > _AUC_EDIT_LIMIT:
                self._auc = _PairCount()
                self._auc.add(self.smoothed, self._labels(0, n))
            else:
                self._auc.remove(old, self._labels(since, old_frames))
                self._auc.add(self._smoothed[since:n], self._labels(since, n))
        return since

    def _labels(self, start: int, end: int) -> np.ndarray:
        """Ground-truth labels of frames ``[start, end)``: ``True`` inside an anomaly interval."""
        labels = np.zeros(max(0, end - start), bool)
        for low, high in self._truth:
            labels[max(low, start) - start:max(min(high, end) - start, 0)] = True
        return labels

    def _reflag_all(self) -> bool:
        flagging = self._flagging
        events = [] if flagging is None or self._frames == 0 else flag_events(
            self.smoothed, flagging.threshold.value, flagging.min_run, flagging.merge_gap, self.video_id)
        changed = events != self._events
        self._events = events
        return changed

    def _reflag_from(self, since: int, old_frames: int) -> bool:
        """Flag again after the smoothed values of frames ``since ..`` changed (``old_frames`` held before);
        the events kept are those no frame from ``since`` on can extend or merge with (module doc)."""
        flagging = self._flagging
        if flagging is None:
            return False
        value, gap = flagging.threshold.value, flagging.merge_gap
        smoothed = self._smoothed
        # the abnormal run that ends at `since` (frames before it are unchanged) may grow into a longer one
        limit = min(since, old_frames)
        run_start = limit
        while run_start > 0:
            low = max(0, run_start - max(64, limit - run_start))
            normal = np.flatnonzero(~(smoothed[low:run_start] > value))
            if normal.size:
                run_start = low + int(normal[-1]) + 1
                break
            run_start = low
        # events ending more than merge_gap frames before the first frame that can change are final
        keep = bisect.bisect_left(self._events, run_start - gap, key=lambda event: event.end)
        restart = min(run_start, self._events[keep].start) if keep < len(self._events) else run_start
        tail = flag_events(smoothed[restart:self._frames], value, flagging.min_run, gap, self.video_id,
                           first_frame=restart)
        old_tail = self._events[keep:]
        self._events[keep:] = tail
        return tail != old_tail


class _PairCount:
    """The Mann-Whitney count behind a frame-level ROC AUC, kept up to date as frames come and go.

    ``pairs2`` is twice the number of (abnormal, normal) frame pairs in which the abnormal frame scores
    higher, ties counted one half (twice, so the count stays a whole number); each class's scores are kept
    sorted, so adding or removing ``k`` frames costs ``k`` binary searches and one merge per class.
    """

    def __init__(self) -> None:
        self.positive = np.zeros(0, np.float64)
        self.negative = np.zeros(0, np.float64)
        self.pairs2 = 0

    def auc(self) -> float | None:
        p, n = self.positive.size, self.negative.size
        if p == 0 or n == 0:
            return None
        return float((self.pairs2 / 2.0) / (p * n))  # as roc_auc: U / (positives * negatives)

    def add(self, scores: np.ndarray, labels: np.ndarray) -> None:
        self._change(scores, labels, 1)

    def remove(self, scores: np.ndarray, labels: np.ndarray) -> None:
        self._change(scores, labels, -1)

    def _change(self, scores: np.ndarray, labels: np.ndarray, sign: int) -> None:
        # positives first, counted against the negatives as they are; then the negatives against the
        # positives as they have become: every changed pair is counted once
        positive = np.sort(scores[labels])
        if positive.size:
            below = np.searchsorted(self.negative, positive, "left")
            equal = np.searchsorted(self.negative, positive, "right") - below
            self.pairs2 += sign * int(2 * below.sum() + equal.sum())
            self.positive = _merged(self.positive, positive, sign)
        negative = np.sort(scores[~labels])
        if negative.size:
            right = np.searchsorted(self.positive, negative, "right")
            equal = right - np.searchsorted(self.positive, negative, "left")
            self.pairs2 += sign * int(2 * (self.positive.size - right).sum() + equal.sum())
            self.negative = _merged(self.negative, negative, sign)


def _merged(array: np.ndarray, values: np.ndarray, sign: int) -> np.ndarray:
    """Sorted ``array`` with sorted ``values`` inserted (``sign`` 1) or removed (-1, each value once)."""
    if sign > 0:
        return np.insert(array, np.searchsorted(array, values), values)
    at = np.searchsorted(array, values, "left")
    # equal values removed together sit at one index: the k-th of them is k places further on
    repeat = np.arange(values.size) - np.searchsorted(values, values, "left")
    return np.delete(array, at + repeat)


def _grown(array: np.ndarray, size: int, used: int) -> np.ndarray:
    grown = np.zeros(size, array.dtype)
    grown[:used] = array[:used]
    return grown
