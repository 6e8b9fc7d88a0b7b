"""How far to trust an anomaly run: measured on the normal footage it held out of its training.

Two figures, recorded in ``run.json``'s ``data["trust"]`` when an anomaly run ends (:func:`assess_run`) and
printed by ``framewatch train``, ``framewatch trust`` and the training panel:

* **False alarms per minute** the calibrated threshold gives on held-out normal footage, measured honestly
  by two-fold cross-validation over the held-out blocks (:func:`two_fold_false_alarms`): the threshold is
  calibrated (as scoring calibrates it: its rule, at a false-alarm rate or a percentile, the run's smoothing
  and frame error; a run whose error level was cross-fitted: each block's errors under the fold level that
  never learned from it, :mod:`core.inference.anomaly.cross_fitted`) on one half of
  the blocks, the events it flags (min run, merge gap) are counted on the other half, then the halves swap.
  The folds are **pooled**: the rate is the events flagged on both halves over the minutes of both halves.
  Held-out footage is normal, so every event there is a false alarm: this is the rate to expect on new
  normal footage of the scene. (The threshold scoring uses is calibrated on all the held-out frames: its
  rate is about the same.) A minute or less is often all that is held out, where one event is already one
  or two a minute, so the report also gives a **one-sided 95% upper bound** on the rate
  (:func:`poisson_upper_bound`: the rate at which seeing as few events would happen 5% of the time, the
  events taken as a Poisson count): "at most 5.4 a minute at 95%" says how bad the true rate may still be.
  Each fold's own rate is kept in the record too.
* **Held-out error / training error** (:func:`error_ratio`): the best epoch's validation loss (on
  held-out frames) over its training loss. Far above 1 (over :data:`MEMORISED_RATIO`), the model learned
  the training frames themselves rather than what normal footage looks like: new normal footage then looks
  abnormal. The cure is more (and more varied) normal video; the report says so in one line.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.inference.anomaly.events import flag_events
from core.inference.anomaly.regularity import DEFAULT_PERCENTILE, Threshold
from core.jobs import ProgressCallback, Stage

#: The run record's ``data`` entry of the report.
TRUST_ENTRY = "trust"
#: Held-out error over training error above which a run is said to have memorised its footage.
MEMORISED_RATIO = 2.0
#: The confidence of the upper bound the report gives on the false-alarm rate.
CONFIDENCE = 0.95
#: The warning's words.
MEMORISED_WARNING = "memorised footage, too little normal video"


def poisson_upper_bound(events: int, confidence: float = CONFIDENCE) -> float:
    """The one-sided ``confidence`` upper bound on the mean of a Poisson count of which ``events`` were seen:
    the mean ``mu`` at which ``P(X <= events) = 1 - confidence`` (the exact, Garwood bound, equal to
    ``0.5 * chi2.ppf(confidence, 2 * events + 2)``). Found by bisection on the Poisson CDF, summed in logs
    with :func:`math.lgamma` (no SciPy): ``-ln(0.05) = 2.996`` for 0 events at 95%, ``7.754`` for 3."""
    if isinstance(events, bool) or not isinstance(events, int | np.integer) or events < 0:
        raise ValueError(f"events must be a count (an integer >= 0), not {events!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    events = int(events)
    alpha = 1.0 - confidence

    def cdf(mu: float) -> float:  # P(X <= events) for X ~ Poisson(mu): 1 at mu = 0, decreasing in mu
        if mu <= 0.0:
            return 1.0
        log_mu = math.log(mu)
        return math.fsum(math.exp(i * log_mu - mu - math.lgamma(i + 1)) for i in range(events + 1))

    if events == 0:
        return -math.log(alpha)
    low, high = 0.0, float(events) + 1.0
    while cdf(high) > alpha:  # widen until the bound lies between
        low, high = high, 2.0 * high
    for _ in range(200):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        low, high = (middle, high) if cdf(middle) > alpha else (low, middle)
    return high


@dataclass(frozen=True)
class FoldCounts:
    """What :func:`two_fold_false_alarms` counted: the events flagged on each evaluation half (by the
    threshold calibrated on the other half) and that half's minutes."""

    events: tuple[int, int]
    minutes: tuple[float, float]

    @property
    def total_events(self) -> int:
        return sum(self.events)

    @property
    def total_minutes(self) -> float:
        return sum(self.minutes)

    @property
    def rate(self) -> float:
        """The pooled rate: events over both halves per minute of both halves."""
        return self.total_events / self.total_minutes

    @property
    def upper_95(self) -> float:
        """The one-sided 95% upper bound on the rate (:func:`poisson_upper_bound`)."""
        return poisson_upper_bound(self.total_events) / self.total_minutes

    @property
    def folds(self) -> tuple[float, float]:
        """Each half's own rate (noisy: a half of a short held-out footage holds few events)."""
        return (self.events[0] / self.minutes[0], self.events[1] / self.minutes[1])


@dataclass(frozen=True)
class TrustReport:
    """A run's trust figures (module doc); a figure is ``None`` when it cannot be measured (no held-out
    footage, no validation loss). Reports recorded before the folds were pooled have no ``events``,
    ``minutes`` nor ``upper_95``: their rate is the mean of the folds' rates."""

    #: events flagged on held-out normal footage per minute, both folds pooled
    false_alarms_per_minute: float | None
    #: each fold's rate (events per minute on the half not calibrated on)
    folds: tuple[float, ...]
    held_out_minutes: float
    held_out_frames: int
    #: held-out blocks (spans of held-out footage) the folds were made from
    blocks: int
    #: the best epoch's validation loss over its training loss
    error_ratio: float | None
    percentile: float = DEFAULT_PERCENTILE
    smoothing: int = 1
    min_run: int = 1
    merge_gap: int = 0
    #: events flagged on both evaluation halves
    events: int | None = None
    #: minutes of both evaluation halves
    minutes: float | None = None
    #: the one-sided 95% upper bound on the rate (:func:`poisson_upper_bound`)
    upper_95: float | None = None
    #: the frame error the footage was scored with (the run's recommendation, as at scoring)
    error: str | None = None
    #: the scorer (the run's default, as at scoring)
    scorer: str | None = None
    #: the false alarms a minute the thresholds aimed at (``None``: calibrated at ``percentile``)
    rate: float | None = None

    @property
    def memorised(self) -> bool:
        return self.error_ratio is not None and self.error_ratio > MEMORISED_RATIO

    def summary(self) -> str:
        """One line: the false-alarm rate, its 95% upper bound and on how much footage, and the error ratio."""
        rate = self.false_alarms_per_minute
        if rate is None:
            text = "no held-out normal footage to measure false alarms on"
        elif self.events is None or self.minutes is None or self.upper_95 is None:  # recorded before pooling
            folds = " and ".join(f"{fold:.2f}" for fold in self.folds)
            text = (f"{rate:.2f} false alarms a minute on {self.held_out_minutes:.1f} min of held-out normal "
                    f"footage (mean of 2 folds: {folds})")
        elif self.events == 0:
            text = (f"no false alarm in {self.minutes:.2f} min of held-out footage "
                    f"(at most {self.upper_95:.1f} a minute at {CONFIDENCE:.0%})")
        else:
            text = (f"{rate:.1f} false alarms a minute (at most {self.upper_95:.1f} at {CONFIDENCE:.0%}) on "
                    f"{self.minutes:.2f} min of held-out normal footage")
        if self.error_ratio is not None:
            text += f"; held-out error {self.error_ratio:.2f}x the training error"
        return text

    def warning(self) -> str:
        """One line when the held-out error is far above the training error, else ``""``."""
        if not self.memorised:
            return ""
        return (f"held-out error {self.error_ratio:.1f}x the training error: {MEMORISED_WARNING} "
                "(give it more normal footage, or more varied)")

    def lines(self) -> list[str]:
        """The report as one or two lines (the summary, and the warning if any)."""
        return [self.summary()] + ([self.warning()] if self.warning() else [])

    def record_entry(self) -> dict[str, Any]:
        """``run.json``'s ``data["trust"]``."""
        entry = dataclasses.asdict(self)
        entry["folds"] = list(self.folds)
        entry["warning"] = self.warning()
        return entry

    @classmethod
    def from_entry(cls, entry: Any) -> TrustReport | None:
        """The report :meth:`record_entry` wrote (now or before the folds were pooled); ``None`` for anything
        else (a run without one)."""
        if not isinstance(entry, Mapping):
            return None

        def number(name: str) -> float | None:
            value = entry.get(name)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            return float(value) if ok else None

        def text(name: str) -> str | None:
            value = entry.get(name)
            return value if isinstance(value, str) else None

        folds = entry.get("folds")
        events = number("events")
        return cls(number("false_alarms_per_minute"),
                   tuple(float(f) for f in folds if isinstance(f, int | float) and not isinstance(f, bool))
                   if isinstance(folds, list) else (),
                   number("held_out_minutes") or 0.0, int(number("held_out_frames") or 0),
                   int(number("blocks") or 0), number("error_ratio"),
                   number("percentile") or DEFAULT_PERCENTILE, int(number("smoothing") or 1),
                   int(number("min_run") or 1), int(number("merge_gap") or 0),
                   None if events is None else int(events), number("minutes"), number("upper_95"),
                   text("error"), text("scorer"), number("rate"))


def error_ratio(record: Any) -> float | None:
    """The best epoch's ``val_loss / loss`` from a run record's history (``None`` without both)."""
    best = record.best_epoch
    history = [h for h in record.history or [] if isinstance(h, Mapping)]
    entry = next((h for h in history if h.get("epoch") == best), None)
    if entry is None and isinstance(best, int) and 0 <= best < len(history):
        entry = history[best]
    if entry is None:
        return None
    loss, val = entry.get("loss"), entry.get("val_loss")
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (loss, val)) or loss <= 0:
        return None
    return float(val) / float(loss)


def two_fold_false_alarms(blocks: Sequence[tuple[np.ndarray, float]], percentile: float = DEFAULT_PERCENTILE,
                          smoothing: int = 1, min_run: int = 1, merge_gap: int = 0,
                          rate: float | None = None) -> FoldCounts | None:
    """The events flagged, and the minutes, on each half of held-out ``blocks`` (``(errors, fps)`` each, the
    per-frame errors of one held-out span): the blocks are dealt alternately into two halves (one block
    only: cut in two at its middle); a threshold calibrated on each half (at ``percentile``, or given
    ``rate`` at that many false alarms a minute) flags the other, whose events are counted. ``None`` with too
    few frames to make two halves."""
    parts = [(np.asarray(errors, np.float64), float(fps)) for errors, fps in blocks if len(errors)]
    if len(parts) == 1:
        errors, fps = parts[0]
        parts = [(errors[: len(errors) // 2], fps), (errors[len(errors) // 2:], fps)]
    halves = [parts[0::2], parts[1::2]]
    if any(not half or not sum(len(e) for e, _ in half) for half in halves):
        return None
    events, minutes = [], []
    for calibrate_on, count_on in ((halves[0], halves[1]), (halves[1], halves[0])):
        frames = sum(len(e) for e, _ in calibrate_on)
        fps = sum(len(e) * f for e, f in calibrate_on) / frames
        threshold = Threshold.calibrate([e for e, _ in calibrate_on], percentile, smoothing, "causal",
                                        rate=rate, fps=fps if rate is not None else None, min_run=min_run,
                                        merge_gap=merge_gap)
        events.append(sum(len(flag_events(threshold.smooth(e), threshold.value, min_run, merge_gap))
                          for e, _ in count_on))
        minutes.append(sum(len(e) / fps for e, fps in count_on) / 60.0)
    return FoldCounts((events[0], events[1]), (minutes[0], minutes[1]))


def assess_run(project: Any, run: str | Path, *, percentile: float | None = None, smoothing: int | None = None,
               min_run: int | None = None, merge_gap: int | None = None, progress: ProgressCallback | None = None,
               cancel: threading.Event | None = None, load_model: Callable[[Path], Any] | None = None,
               save: bool = True, error: str | None = None, scorer: str | None = None,
               alarm_rate: float | None = None) -> TrustReport:
    """Measure ``run`` (a run of ``project``) on the normal footage it held out (module doc), and record the
    report in its ``run.json`` (``data["trust"]``, unless ``save=False``).

    The footage is scored, and the thresholds calibrated, as
    :func:`~core.inference.anomaly.project_scoring.score_project` does by default, and the report records how:
    the rule, ``smoothing`` and event rule (``min_run``, ``merge_gap``) of
    :func:`~core.inference.anomaly.project_scoring.calibration_rule` (``percentile``, ``alarm_rate``); ``error`` (the frame error) the run's recommendation
    (``data["scoring"]["error"]``), else ``mse``; ``scorer`` the run's default. The videos holding held-out
    footage are scored whole through the score cache (scoring later reads them from there). The errors of
    :func:`~core.inference.anomaly.project_scoring.run_model` and of scoring; :class:`~core.errors.Cancelled`
    when ``cancel`` is set (nothing is recorded).
    """
    from core.inference.anomaly.project_scoring import (
        calibration_rule,
        footage_fps,
        held_out_frames,
        run_model,
        score_videos,
    )

    model_run = run_model(project.folder, run, scorer)
    if error is not None and error != model_run.spec.error:
        model_run = dataclasses.replace(model_run, spec=dataclasses.replace(model_run.spec, error=error))
    record = model_run.record
    held = held_out_frames(project, model_run) or {}
    videos = [video for video in project.videos.values() if video.id in held]
    rule = calibration_rule(model_run, percentile, alarm_rate, smoothing, footage_fps(videos), min_run, merge_gap)
    min_run, merge_gap = rule.min_run, rule.merge_gap
    measured = None
    frames = 0
    blocks: list[tuple[np.ndarray, float]] = []
    if videos:
        kwargs = {} if load_model is None else {"load_model": load_model}
        errors = score_videos(project, model_run, videos, progress=progress, cancel=cancel,
                              stage=Stage.CALIBRATING, **kwargs)
        from core.inference.anomaly.cross_fitted import cross_fitted_parts

        footage = [(video, held[video.id]) for video in videos]
        # a cross-fitted error level: each block as scored by the fold level that never learned from it
        crossed = cross_fitted_parts(model_run.pinned(), footage) if model_run.scorer == "prediction" else None
        if crossed is not None:
            fps_of = [video.fps or 25.0 for video, spans in footage for _ in spans]
            blocks = [(part, fps) for part, fps in zip(crossed, fps_of, strict=True) if part.size]
        elif model_run.scorer == "fused":  # its prediction's share cross-fitted too, where it was (scoring's rule)
            from core.inference.anomaly.project_scoring import held_out_parts

            crossed = held_out_parts(model_run.pinned(), footage, errors, project)
            blocks = [(part, footage_fps(videos)) for part in crossed if part.size]
        for video in videos if crossed is None else ():
            series = errors[video.id]
            for start, end in held[video.id]:
                if min(end, len(series)) > start:
                    blocks.append((series[start:min(end, len(series))], video.fps or 25.0))
        frames = sum(len(e) for e, _ in blocks)
        measured = two_fold_false_alarms(blocks, rule.percentile or DEFAULT_PERCENTILE, rule.smoothing, min_run,
                                         merge_gap, rule.rate)
    if measured is None:
        figures: tuple[Any, ...] = (None, (), 0.0)
        pooled: tuple[Any, ...] = (None, None, None)
    else:
        figures = (measured.rate, measured.folds, measured.total_minutes)
        pooled = (measured.total_events, measured.total_minutes, measured.upper_95)
    report = TrustReport(*figures, frames, len(blocks), error_ratio(record), rule.percentile or DEFAULT_PERCENTILE,
                         rule.smoothing, int(min_run), int(merge_gap), *pooled, model_run.spec.error,
                         model_run.scorer, rule.rate)
    if save:
        from core.runs import RunRecord

        fresh = RunRecord.load(model_run.run_dir)
        fresh.data = {**fresh.data, TRUST_ENTRY: report.record_entry()}
        fresh.save(model_run.run_dir)
    return report


def trust_report(record: Any) -> TrustReport | None:
    """The report a run recorded (``data["trust"]``), or ``None``: what the CLI and the training panel show."""
    return TrustReport.from_entry((record.data or {}).get(TRUST_ENTRY))
