"""Anomaly scoring: per-frame errors of a run's model, made usable.

:mod:`~core.inference.anomaly.scoring` streams a model's per-frame errors over a video (``score_video``);
:mod:`~core.inference.anomaly.project_scoring` scores a project's videos with a run's model through the
:mod:`~core.inference.anomaly.score_cache` (keyed by model, video and parameters) and flags them;
:mod:`~core.inference.anomaly.regularity` smooths errors and calibrates a threshold on normal footage;
:mod:`~core.inference.anomaly.events` flags events (whole series or frame by frame) and attaches verdicts;
:mod:`~core.inference.anomaly.flagging_session` is one video's review state, re-flagged incrementally;
:mod:`~core.inference.anomaly.events_file` is a run's ``events.json``;
:mod:`~core.inference.anomaly.exports` writes a scored video's scores and events (CSV, JSON);
:mod:`~core.inference.anomaly.error_overlay` maps where in the picture a model errs;
:mod:`~core.inference.anomaly.project_evaluation` measures a run on the test videos (``framewatch evaluate``).
The error level a next-frame run divides its errors by is fitted by :mod:`core.training.error_level`.
"""

from core.inference.anomaly.events import Event, EventTracker, attach_verdicts, flag_events
from core.inference.anomaly.events_file import EVENTS_FILE, RunEvents, read_events, write_events
from core.inference.anomaly.regularity import (
    DEFAULT_PERCENTILE,
    CausalMovingAverage,
    Threshold,
    moving_average,
)
from core.inference.anomaly.score_cache import CachedScores, ScoreCache, ScoreKey, scores_dir

__all__ = [
    "DEFAULT_PERCENTILE",
    "EVENTS_FILE",
    "CachedScores",
    "CausalMovingAverage",
    "Event",
    "EventTracker",
    "RunEvents",
    "ScoreCache",
    "ScoreKey",
    "Threshold",
    "attach_verdicts",
    "flag_events",
    "moving_average",
    "read_events",
    "scores_dir",
    "write_events",
]
