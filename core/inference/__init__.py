"""Trained models applied to footage, one subpackage per kind of answer (none imports Keras on import):

* :mod:`core.inference.anomaly`: per-frame anomaly scores (prediction or reconstruction error), the score
  cache, calibrated thresholds, flagged events, the review's flagging session, exports and evaluation;
* :mod:`core.inference.rollout`: next-frame rollout (predicted frames from given ones) over videos and
  sequences, and its per-step evaluation;
* :mod:`core.inference.labelling`: a long video labelled (or rated) window by window by a classify or
  regress run, merged into segments.

Shared by them: :mod:`core.inference.clip_input` (what a clip model takes, read from its run record),
:mod:`core.inference.model_fingerprint` (a model file's content key) and :mod:`core.inference.errors`.
The video writers that draw these results are :mod:`core.render`. See ``docs/inference.md``.
"""

from core.inference.errors import InferenceError, InferenceFileError, ScoreError
from core.inference.model_fingerprint import model_fingerprint

__all__ = ["InferenceError", "InferenceFileError", "ScoreError", "model_fingerprint"]
