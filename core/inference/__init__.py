"""Scores from trained models, made usable: per-video regularity, calibrated thresholds, flagged events,
score caches and the events a scoring run keeps.

Importing this package does not import Keras. :mod:`core.inference.regularity` smooths per-frame errors and calibrates a threshold on normal footage; :mod:`core.inference.events`
flags events in a whole series or frame by frame and attaches the project's verdicts to them;
:mod:`core.inference.flagging_session` is one video's review state (errors, threshold stored vs current,
events, AUC), re-flagged incrementally as frames arrive;
:mod:`core.inference.score_cache` keeps per-frame scores under ``<project>/cache/scores/`` keyed by model
and video; :mod:`core.inference.events_file` is a run's ``events.json``. :mod:`core.inference.scoring` streams a
model's per-frame errors over a video (``score_video``), :mod:`core.inference.project_scoring` scores a
project's videos with a run's model through the cache (``score_project``) and
:mod:`core.inference.project_evaluation` measures a run on the test videos (``evaluate_project``);
:mod:`core.inference.exports` writes a scored video's scores and events as CSV and JSON and
:mod:`core.inference.annotated_video` its annotated anomaly video (drawn with
:mod:`core.inference.score_overlay`); :mod:`core.inference.windows` classifies (or rates) a long video
window by window with a classify or regress run and merges the windows into segments, and
:mod:`core.inference.window_video` writes its annotated copy (drawn by :mod:`core.inference.label_strip`).
Import them from their modules. See ``docs/inference.md``.
"""

from core.inference.errors import InferenceError, InferenceFileError, ScoreError
from core.inference.events import Event, EventTracker, attach_verdicts, flag_events
from core.inference.events_file import EVENTS_FILE, RunEvents, read_events, write_events
from core.inference.model_fingerprint import model_fingerprint
from core.inference.regularity import (
    DEFAULT_PERCENTILE,
    CausalMovingAverage,
    Threshold,
    moving_average,
)
from core.inference.score_cache import CachedScores, ScoreCache, ScoreKey, scores_dir

__all__ = [
    "DEFAULT_PERCENTILE",
    "EVENTS_FILE",
    "CachedScores",
    "CausalMovingAverage",
    "Event",
    "EventTracker",
    "InferenceError",
    "InferenceFileError",
    "RunEvents",
    "ScoreCache",
    "ScoreError",
    "ScoreKey",
    "Threshold",
    "attach_verdicts",
    "flag_events",
    "model_fingerprint",
    "moving_average",
    "read_events",
    "scores_dir",
    "write_events",
]
