"""How far to trust an anomaly run: measured on the normal footage it held out of its training.

Two figures, recorded in ``run.json``'s ``data["trust"]`` when an anomaly run ends (:func:`assess_run`) and
printed by ``framewatch train`` and the training panel:

* **False alarms per minute** the calibrated threshold gives on held-out normal footage, measured honestly
  by two-fold cross-validation over the held-out blocks (:func:`two_fold_false_alarms`): the threshold is
  calibrated (as scoring calibrates it: the percentile, the run's smoothing) on one half of the blocks, the
  events it flags (min run, merge gap) are counted per minute on the other half, then the halves swap; the
  report gives the mean of both. Held-out footage is normal, so every event there is a false alarm: this
  is the rate to expect on new normal footage of the scene. (The threshold scoring uses is calibrated on
  all the held-out frames: its rate is about the same.)
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
#: The warning's words.
MEMORISED_WARNING = "memorised footage, too little normal video"


@dataclass(frozen=True)
class TrustReport:
    """A run's trust figures (module doc); a figure is ``None`` when it cannot be measured (no held-out
    footage, no validation loss)."""

    #: mean over the two folds of the events per minute flagged on held-out normal footage
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

    @property
    def memorised(self) -> bool:
        return self.error_ratio is not None and self.error_ratio > MEMORISED_RATIO

    def summary(self) -> str:
        """One line: the false-alarm rate and on how much footage, and the error ratio."""
        if self.false_alarms_per_minute is None:
            text = "no held-out normal footage to measure false alarms on"
        else:
            folds = " and ".join(f"{rate:.2f}" for rate in self.folds)
            text = (f"{self.false_alarms_per_minute:.2f} false alarms a minute on {self.held_out_minutes:.1f} min of "
                    f"held-out normal footage (2-fold: {folds})")
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
        """The report :meth:`record_entry` wrote; ``None`` for anything else (a run without one)."""
        if not isinstance(entry, Mapping):
            return None

        def number(name: str) -> float | None:
            value = entry.get(name)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            return float(value) if ok else None

        folds = entry.get("folds")
        return cls(number("false_alarms_per_minute"),
                   tuple(float(f) for f in folds if isinstance(f, int | float) and not isinstance(f, bool))
                   if isinstance(folds, list) else (),
                   number("held_out_minutes") or 0.0, int(number("held_out_frames") or 0),
                   int(number("blocks") or 0), number("error_ratio"),
                   number("percentile") or DEFAULT_PERCENTILE, int(number("smoothing") or 1),
                   int(number("min_run") or 1), int(number("merge_gap") or 0))


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
                          smoothing: int = 1, min_run: int = 1,
                          merge_gap: int = 0) -> tuple[tuple[float, float], float] | None:
    """``((rate of fold 1, rate of fold 2), minutes)`` over held-out ``blocks`` (``(errors, fps)`` each, the
    per-frame errors of one held-out span): the blocks are dealt alternately into two halves (one block
    only: cut in two at its middle); a threshold calibrated on each half flags the other, whose events are
    counted per minute. ``None`` with too few frames to make two halves."""
    parts = [(np.asarray(errors, np.float64), float(fps)) for errors, fps in blocks if len(errors)]
    if len(parts) == 1:
        errors, fps = parts[0]
        parts = [(errors[: len(errors) // 2], fps), (errors[len(errors) // 2:], fps)]
    halves = [parts[0::2], parts[1::2]]
    if any(not half or not sum(len(e) for e, _ in half) for half in halves):
        return None
    rates = []
    for calibrate_on, count_on in ((halves[0], halves[1]), (halves[1], halves[0])):
        threshold = Threshold.calibrate([e for e, _ in calibrate_on], percentile, smoothing, "causal")
        events = sum(len(flag_events(threshold.smooth(e), threshold.value, min_run, merge_gap)) for e, _ in count_on)
        minutes = sum(len(e) / fps for e, fps in count_on) / 60.0
        rates.append(events / minutes)
    minutes = sum(len(e) / fps for e, fps in parts) / 60.0
    return (rates[0], rates[1]), minutes


def assess_run(project: Any, run: str | Path, *, percentile: float = DEFAULT_PERCENTILE, smoothing: int | None = None,
               min_run: int = 1, merge_gap: int = 0, progress: ProgressCallback | None = None,
               cancel: threading.Event | None = None, load_model: Callable[[Path], Any] | None = None,
               save: bool = True) -> TrustReport:
    """Measure ``run`` (a run of ``project``) on the normal footage it held out (module doc), and record the
    report in its ``run.json`` (``data["trust"]``, unless ``save=False``).

    The videos holding held-out footage are scored whole through the score cache (scoring later reads
    them from there). ``smoothing``: the run's recommendation (``data["scoring"]["smooth"]``), else 1.
    The errors of :func:`~core.inference.anomaly.project_scoring.run_model` and of scoring;
    :class:`~core.errors.Cancelled` when ``cancel`` is set (nothing is recorded).
    """
    from core.inference.anomaly.project_scoring import held_out_frames, run_model, score_videos

    model_run = run_model(project.folder, run)
    record = model_run.record
    if smoothing is None:
        smoothing = int((record.data.get("scoring") or {}).get("smooth", 1))
    held = held_out_frames(project, model_run) or {}
    videos = [video for video in project.videos.values() if video.id in held]
    folds: tuple[float, ...] = ()
    rate = None
    minutes = 0.0
    frames = 0
    blocks: list[tuple[np.ndarray, float]] = []
    if videos:
        kwargs = {} if load_model is None else {"load_model": load_model}
        errors = score_videos(project, model_run, videos, progress=progress, cancel=cancel,
                              stage=Stage.CALIBRATING, **kwargs)
        for video in videos:
            series = errors[video.id]
            for start, end in held[video.id]:
                if min(end, len(series)) > start:
                    blocks.append((series[start:min(end, len(series))], video.fps or 25.0))
        frames = sum(len(e) for e, _ in blocks)
        measured = two_fold_false_alarms(blocks, percentile, smoothing, min_run, merge_gap)
        if measured is not None:
            folds, minutes = measured
            rate = sum(folds) / len(folds)
    report = TrustReport(rate, folds, minutes, frames, len(blocks), error_ratio(record), float(percentile),
                         int(smoothing), int(min_run), int(merge_gap))
    if save:
        from core.runs import RunRecord

        fresh = RunRecord.load(model_run.run_dir)
        fresh.data = {**fresh.data, TRUST_ENTRY: report.record_entry()}
        fresh.save(model_run.run_dir)
    return report


def trust_report(record: Any) -> TrustReport | None:
    """The report a run recorded (``data["trust"]``), or ``None``: what the CLI and the training panel show."""
    return TrustReport.from_entry((record.data or {}).get(TRUST_ENTRY))
