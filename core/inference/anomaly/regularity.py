"""Per-video abnormality and regularity, temporal smoothing, and the threshold calibrated on normal footage.

Scores here are per-frame **errors** ``e(t)`` (reconstruction or prediction error, higher = less like the
training footage) as 1-D arrays, one value per frame, frame ``t`` at index ``t``.

* abnormality ``sa(t)`` and regularity ``sr(t)`` normalise over one whole video (their one home is
  :mod:`core.evaluation.normalise`): they need every frame of the video, and a value means nothing across
  videos (each video's worst frame scores 1).
* :class:`Threshold` is for live use and for videos scored one at a time: a level in error units, calibrated
  on the errors of *normal* footage, so a frame can be flagged the moment it is scored. Two rules: a
  **false-alarm rate** (:func:`rate_threshold`, the default for runs that held normal footage out of their
  training): the level at which that footage would give about ``rate`` events a minute, read off a tail fitted
  to its highest errors; or a **percentile** of its frames (runs recorded before runs held time out, or an
  explicit ``--percentile``).
* :func:`moving_average` smooths errors over a few frames before they meet the threshold (one noisy frame
  then flags nothing). The threshold is calibrated on errors smoothed the same way, so both sides compare
  like with like. A **causal** average uses frame ``t`` and the frames before it only, so it can run live
  (:class:`CausalMovingAverage` gives bit-identical values frame by frame); a **centred** average also uses
  ``window // 2`` frames after ``t`` and therefore needs the video (or a delay) first.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.inputs import as_scores as checked_scores
from core.inference.errors import ScoreError

#: The percentile of the normal footage's errors a percentile threshold takes unless told otherwise.
DEFAULT_PERCENTILE = 99.5
#: The false alarms a minute a rate threshold aims at on the held-out normal footage it is calibrated on.
#: New footage of a scene exceeds a level fitted on held-out time of the same recordings several times as
#: often as that time does (held-out blocks sit between trained ones); aiming at a fifth of the one alarm a
#: minute an analyst can live with leaves room for that.
DEFAULT_ALARM_RATE = 0.2
#: A run that held normal time out of its training and recommends no smoothing is smoothed over about this
#: many seconds: a single noisy frame then flags nothing, and an event still starts within a third of a second.
DEFAULT_SMOOTH_SECONDS = 0.3
#: A run that held normal time out and recommends no event rule merges events this many seconds apart or less
#: (5 frames at 10 fps, 12 at 25): one busy moment whose errors dip under the threshold and rise again is one
#: event to review, not three, and no event is dropped (docs/inference.md, "Calibrated threshold").
DEFAULT_MERGE_SECONDS = 0.5
#: Where the fitted tail starts: this quantile of the smoothed normal errors.
TAIL_QUANTILE = 0.90
#: Fewer frames than this above the tail's start and there is no tail to fit: the threshold is the highest
#: normal error instead (about 100 frames of normal footage are needed for a fit).
MIN_TAIL_FRAMES = 10
SMOOTHING_MODES = ("causal", "centred")
#: The longest smoothing window, in frames (about 5.5 minutes at 30 fps): averaging over more says nothing of
#: a moment, and a window held in memory frame by frame (:class:`CausalMovingAverage`) must stay small.
MAX_SMOOTHING_WINDOW = 10_000
#: Where a threshold comes from: calibrated on normal footage, or set by hand.
THRESHOLD_KINDS = ("percentile", "rate", "manual")


def as_scores(scores: Any, what: str = "scores") -> np.ndarray:
    """``scores`` as a 1-D float64 array (empty allowed: a live series before its first frame);
    :class:`ScoreError` if not 1-D or if a value is NaN or infinite. The rule is the metrics' own
    (:func:`core.evaluation.inputs.as_scores`), raised as a scoring error."""
    return checked_scores(scores, what, allow_empty=True, error=ScoreError)


def check_smoothing(window: int, mode: str) -> None:
    """:class:`ScoreError` unless ``window`` is a frame count from 1 to :data:`MAX_SMOOTHING_WINDOW` and ``mode``
    one of :data:`SMOOTHING_MODES` (a centred window must be odd, so that it is centred on a frame)."""
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or not 1 <= window <= MAX_SMOOTHING_WINDOW:
        raise ScoreError(f"smoothing window must be a number of frames from 1 to {MAX_SMOOTHING_WINDOW:,}, "
                         f"got {window!r}")
    if mode not in SMOOTHING_MODES:
        raise ScoreError(f"smoothing must be one of {', '.join(SMOOTHING_MODES)}, got {mode!r}")
    if mode == "centred" and window % 2 == 0:
        raise ScoreError(f"a centred smoothing window must be odd (frames on both sides of t), got {window}")


def moving_average(errors: Any, window: int = 1, mode: str = "causal") -> np.ndarray:
    """The mean of each frame's error with its neighbours, float64 of the same shape.

    ``causal``: frames ``t - window + 1 .. t``; ``centred``: ``t - window//2 .. t + window//2``. Near the
    ends of the video the window holds only the frames that exist (the first frame's causal mean is its
    own error), so no frame is lost and the series keeps its length. ``window=1`` returns the errors.
    The sum runs newest frame first, exactly as :class:`CausalMovingAverage` does, so live and batch values
    are equal to the last bit.
    """
    check_smoothing(window, mode)
    e = as_scores(errors, "errors")
    n = e.size
    if window == 1 or n == 0:
        return e.copy()
    total = np.zeros(n)
    count = np.zeros(n)
    after = window // 2 if mode == "centred" else 0
    # offsets relative to t, in the order CausalMovingAverage adds them (t, t-1, ...), then the future
    for offset in [*range(0, after - window, -1), *range(1, after + 1)]:
        if abs(offset) >= n:  # a window longer than the video: no frame that far away
            continue
        if offset <= 0:
            total[-offset:] += e[:n + offset]
            count[-offset:] += 1
        else:
            total[:n - offset] += e[offset:]
            count[:n - offset] += 1
    return total / count


class CausalMovingAverage:
    """The causal :func:`moving_average`, one frame at a time: ``push(e)`` returns the smoothed error of that frame."""

    def __init__(self, window: int = 1) -> None:
        check_smoothing(window, "causal")
        self.window = int(window)
        self._recent: deque[float] = deque(maxlen=self.window)
        self._frame = 0

    def push(self, error: float) -> float:
        value = float(error)
        if not math.isfinite(value):
            raise ScoreError(f"errors: frame {self._frame} is {value} (every score must be a finite number)")
        self._frame += 1
        self._recent.append(value)
        total = 0.0
        for past in reversed(self._recent):
            total += past
        return total / len(self._recent)


def _check_rate(rate: Any, fps: Any) -> None:
    for name, value in (("false-alarm rate", rate), ("frame rate", fps)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise ScoreError(f"threshold {name} must be a positive number, got {value!r}")


def sustained(errors: Any, min_run: int = 1) -> np.ndarray:
    """The level the ``min_run`` frames ending at each frame all exceed: the causal running minimum of one
    series (its first ``min_run - 1`` frames, which end no run that long, left out). A run of at least
    ``min_run`` frames above a level in ``errors`` is exactly a run of this series above it, so an event rule
    that needs ``min_run`` frames is calibrated on it. ``min_run=1`` returns the errors."""
    e = as_scores(errors, "errors")
    if min_run <= 1:
        return e
    if e.size < min_run:
        return np.zeros(0)
    return np.lib.stride_tricks.sliding_window_view(e, min_run).min(axis=1)


def check_event_rule(min_run: Any, merge_gap: Any) -> None:
    """:class:`ScoreError` unless ``min_run`` is a whole number of frames >= 1 and ``merge_gap`` one >= 0 (the
    event rule of :func:`~core.inference.anomaly.events.flag_events`, which checks it here too)."""
    for name, value, low in (("min_run", min_run, 1), ("merge_gap", merge_gap, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ScoreError(f"{name} must be a whole number of frames >= {low}, got {value!r}")


def _clusters(above: np.ndarray, separation: int) -> int:
    """The runs of ``above`` (1-D bool), runs at most ``separation`` frames apart counted as one."""
    if not above.any():
        return 0
    edges = np.diff(np.concatenate(([0], above.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return 1 + int(np.count_nonzero(starts[1:] - ends[:-1] > separation))


def rate_threshold(series: Iterable[Any], rate: float, fps: float, min_run: int = 1, merge_gap: int = 0) -> float:
    """The level that the normal errors ``series`` (one smoothed 1-D array per stretch of footage, each
    smoothed on its own) would cross about ``rate`` times a minute at ``fps`` frames a second, an event being
    what :func:`~core.inference.anomaly.events.flag_events` makes of frames above it with ``min_run`` and
    ``merge_gap``.

    Peaks over a threshold, as streaming detectors set alarm levels from extreme-value theory (Siffer et
    al., KDD 2017): above ``u``, the :data:`TAIL_QUANTILE` of the errors, the excesses are taken as
    exponential (a generalised Pareto tail of shape 0, the stable choice for a few dozen excesses), their
    scale ``beta`` read from their median (``median / ln 2``, so a handful of huge values, a scene cut in
    the footage, do not drag it). Frames above a level come in runs, and a run is one event: ``theta``, the
    runs above ``u`` per frame above it (the runs estimate of the extremal index), turns frames into
    events. Level ``x`` is then crossed ``above * exp(-(x - u) / beta) * theta`` times a frame (``above``:
    the share of frames above ``u``); solved for ``rate / (60 * fps)``. A rate the footage meets at ``u``
    already gives ``u``; with under :data:`MIN_TAIL_FRAMES` frames above ``u`` (about 100 frames in all)
    there is no tail to fit, and the level is the highest normal error.

    The event rule enters twice, exactly: the errors are taken :func:`sustained` over ``min_run`` frames (an
    event needs that many frames above the level), and runs closer than ``merge_gap`` frames (plus the
    ``min_run - 1`` the running minimum trims from each run) are one cluster in ``theta`` (the runs
    estimator's run length, the declustering a merge gap is). ``min_run=1, merge_gap=0`` is every run of
    frames. :class:`ScoreError` for no frames, a value that is not finite, a rate or frame rate that is not a
    positive number, or a bad event rule.
    """
    _check_rate(rate, fps)
    check_event_rule(min_run, merge_gap)
    raw = [as_scores(e, "normal errors") for e in series]
    frames = sum(part.size for part in raw)
    parts = [sustained(part, int(min_run)) for part in raw]
    values = np.concatenate(parts) if parts else np.zeros(0)
    if values.size == 0:
        if frames:
            raise ScoreError(f"cannot calibrate a threshold for events of {min_run} frames on normal footage "
                             f"whose stretches are all shorter than that ({frames} frames in all)")
        raise ScoreError("cannot calibrate a threshold on no frames of normal footage")
    start = float(np.quantile(values, TAIL_QUANTILE))
    excess = values[values > start] - start
    if excess.size < MIN_TAIL_FRAMES:
        return float(values.max())
    scale = float(np.median(excess)) / math.log(2.0)
    separation = int(merge_gap) + int(min_run) - 1
    runs = sum(_clusters(part > start, separation) for part in parts if part.size)
    per_frame = runs / frames  # events per frame of footage at the tail's start
    wanted = rate / (60.0 * fps)
    if scale <= 0 or wanted >= per_frame:
        return start
    return start + scale * math.log(per_frame / wanted)


@dataclass(frozen=True)
class Threshold:
    """A flagging threshold in error units, calibrated on the errors of normal footage.

    ``value`` is the ``percentile`` (0-100) of the calibration errors after smoothing them with a moving
    average of ``window`` frames (``smoothing`` ``"causal"`` or ``"centred"``); scores are smoothed the same
    way (:meth:`smooth`) before they meet it. A frame is abnormal when its smoothed error is above ``value``:
    at the default 99.5th percentile about one normal frame in 200 is above it. ``frames`` and ``videos``
    say how much footage the calibration saw. Live flagging needs ``smoothing="causal"``.

    ``kind`` is ``"rate"`` for a threshold calibrated to give about ``rate`` false alarms a minute on the
    normal footage (:func:`rate_threshold`; ``percentile`` then means nothing), ``"percentile"`` for one at a
    percentile of its frames, and ``"manual"`` for a value an analyst set (:meth:`manual`: a drag of the
    chart's threshold line, ``framewatch score --threshold``); a manual threshold keeps the smoothing but its
    ``percentile``, ``rate``, ``frames`` and ``videos`` mean nothing. ``min_run`` and ``merge_gap`` are the
    event rule the threshold flags with where scoring recorded one; a rate threshold counts its events by it
    (:func:`rate_threshold`): flagged with another rule, the footage gives another rate.
    """

    value: float
    percentile: float = DEFAULT_PERCENTILE
    window: int = 1
    smoothing: str = "causal"
    frames: int = 0
    videos: int = 0
    kind: str = "percentile"
    rate: float = 0.0
    min_run: int = 1
    merge_gap: int = 0

    @classmethod
    def manual(cls, value: float, window: int = 1, smoothing: str = "causal") -> Threshold:
        """A threshold set by hand at ``value`` (error units), met by errors smoothed over ``window`` frames."""
        check_smoothing(window, smoothing)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ScoreError(f"threshold must be a finite number, got {value!r}")
        return cls(value=float(value), window=int(window), smoothing=smoothing, kind="manual")

    def describe(self) -> str:
        """One line for people: the value and where it came from, e.g. ``0.0123 (99.5th percentile of
        1,234 normal frames, 3-frame average)``."""
        origin = ("set by hand" if self.kind == "manual" else
                  f"about {self.rate:g} false alarms a minute on {self.frames:,} normal frames" if self.kind == "rate"
                  else f"{self.percentile:g}th percentile of {self.frames:,} normal frames")
        if self.kind == "rate" and (self.min_run > 1 or self.merge_gap > 0):
            origin += f" (events of {self.min_run}+ frames, merged {self.merge_gap} apart)"
        if self.window > 1:
            origin += f", {self.window}-frame {self.smoothing} average"
        return f"{self.value:.6g} ({origin})"

    @classmethod
    def calibrate(cls, normal_errors: Iterable[Any] | np.ndarray, percentile: float = DEFAULT_PERCENTILE,
                  window: int = 1, smoothing: str = "causal", *, rate: float | None = None,
                  fps: float | None = None, min_run: int = 1, merge_gap: int = 0) -> Threshold:
        """Calibrate on the per-frame errors of normal footage: one 1-D series per video or stretch of
        footage (or one array): at ``percentile`` of the frames, or, given ``rate`` (false alarms a minute)
        and the footage's ``fps``, at the level :func:`rate_threshold` finds for events flagged with
        ``min_run`` and ``merge_gap`` (a percentile counts frames: the event rule does not enter it).

        Each series is smoothed on its own (a window never spans two videos). :class:`ScoreError` when
        there are no frames, a value is not finite, ``percentile`` is outside (0, 100], or ``rate`` or ``fps``
        is not a positive number.
        """
        check_smoothing(window, smoothing)
        if rate is not None:
            if isinstance(normal_errors, np.ndarray) and normal_errors.ndim == 1:
                normal_errors = [normal_errors]
            series = [moving_average(e, window, smoothing) for e in normal_errors]
            value = rate_threshold(series, rate, fps, min_run, merge_gap)
            return cls(value=value, window=int(window), smoothing=smoothing, frames=int(sum(s.size for s in series)),
                       videos=len(series), kind="rate", rate=float(rate), min_run=int(min_run),
                       merge_gap=int(merge_gap))
        if isinstance(percentile, bool) or not isinstance(percentile, int | float) or not 0 < percentile <= 100:
            raise ScoreError(f"threshold percentile must be in (0, 100], got {percentile!r}")
        if isinstance(normal_errors, np.ndarray) and normal_errors.ndim == 1:
            normal_errors = [normal_errors]
        series = [moving_average(e, window, smoothing) for e in normal_errors]
        frames = sum(s.size for s in series)
        if frames == 0:
            raise ScoreError("cannot calibrate a threshold on no frames of normal footage")
        value = float(np.percentile(np.concatenate(series), percentile))
        return cls(value=value, percentile=float(percentile), window=int(window), smoothing=smoothing,
                   frames=int(frames), videos=len(series))

    def smooth(self, errors: Any) -> np.ndarray:
        """One video's errors smoothed as the calibration errors were (float64, same shape)."""
        return moving_average(errors, self.window, self.smoothing)

    def live_smoother(self) -> CausalMovingAverage:
        """A frame-by-frame smoother matching this threshold; :class:`ScoreError` for centred smoothing,
        which needs frames after ``t`` and so cannot flag a frame when it is scored."""
        if self.smoothing != "causal":
            raise ScoreError(f"a threshold calibrated with {self.smoothing} smoothing cannot flag live: "
                             "calibrate it with causal smoothing")
        return CausalMovingAverage(self.window)

    def to_dict(self) -> dict[str, Any]:
        data = {"kind": self.kind, "value": self.value, "percentile": self.percentile, "window": self.window,
                "smoothing": self.smoothing, "frames": self.frames, "videos": self.videos}
        if self.kind == "rate":
            data["rate"] = self.rate
        if self.min_run > 1 or self.merge_gap > 0:
            data.update(min_run=self.min_run, merge_gap=self.merge_gap)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Threshold:
        """The threshold :meth:`to_dict` wrote; :class:`ScoreError` saying which field is wrong."""
        if not isinstance(data, Mapping):
            raise ScoreError(f"threshold: a JSON {type(data).__name__}, not an object")
        kind = data.get("kind", "percentile")
        if kind not in THRESHOLD_KINDS:
            raise ScoreError(f"threshold: unknown kind {kind!r}")
        value = data.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ScoreError(f"threshold: 'value' is {value!r}, not a finite number")
        fields: dict[str, Any] = {"value": float(value), "kind": kind}
        for name, kind in (("percentile", float), ("rate", float), ("window", int), ("frames", int), ("videos", int),
                           ("min_run", int), ("merge_gap", int)):
            if name in data:
                item = data[name]
                if isinstance(item, bool) or not isinstance(item, int | (float if kind is float else int)):
                    raise ScoreError(f"threshold: {name!r} is {item!r}, not a number")
                fields[name] = kind(item)
        if "smoothing" in data:
            fields["smoothing"] = data["smoothing"]
        threshold = cls(**fields)
        check_smoothing(threshold.window, threshold.smoothing)
        check_event_rule(threshold.min_run, threshold.merge_gap)
        return threshold
