"""Scores from trained models, made usable: per-video regularity, calibrated thresholds, flagged events,
score caches and the events a scoring run keeps.

Importing this package does not import Keras. :mod:`core.inference.regularity` normalises per-frame errors
(``sa``, ``sr``), smooths them and calibrates a threshold on normal footage; :mod:`core.inference.events`
flags events in a whole series or frame by frame and attaches the project's verdicts to them. See
``docs/inference.md`` for the definitions.
"""

from core.inference.errors import InferenceError, InferenceFileError, ScoreError
from core.inference.events import Event, EventTracker, attach_verdicts, flag_events
from core.inference.regularity import (
    DEFAULT_PERCENTILE,
    CausalMovingAverage,
    Threshold,
    abnormality,
    moving_average,
    regularity,
)

__all__ = [
    "DEFAULT_PERCENTILE",
    "CausalMovingAverage",
    "Event",
    "EventTracker",
    "InferenceError",
    "InferenceFileError",
    "ScoreError",
    "Threshold",
    "abnormality",
    "attach_verdicts",
    "flag_events",
    "moving_average",
    "regularity",
]
