"""Per-video score normalisation of the reference anomaly system.

For one video's reconstruction errors e(t) (any units, higher = less like the training footage):
abnormality ``sa(t) = (e(t) - min e) / (max e - min e)`` in [0, 1] and regularity ``sr(t) = 1 - sa(t)``.
Each video is scaled on its own, as the anomaly-detection literature reports frame-level AUC on UCSD Ped2.
The one home of sa and sr: evaluation pools them, and score exports and annotated videos write them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.evaluation.inputs import as_scores


def abnormality(errors: Any) -> np.ndarray:
    """Abnormality sa(t): ``(frames,)`` float64 in [0, 1], 0 at the video's lowest error and 1 at its highest.

    A video whose errors are all equal has nothing abnormal in it relative to itself: its sa is all zeros
    (not the NaN of 0 / 0); an empty series gives an empty array. Raises
    :class:`~core.evaluation.errors.EvaluationError` for NaN or infinite errors.
    """
    e = as_scores(errors, "errors", allow_empty=True)
    if e.size == 0:
        return e
    low = e.min()
    span = e.max() - low
    if span == 0.0:
        return np.zeros_like(e)
    return (e - low) / span


def regularity(errors: Any) -> np.ndarray:
    """Regularity sr(t) = 1 - sa(t): ``(frames,)`` float64 in [0, 1], 1 for the most regular frame.

    A video whose errors are all equal is regular throughout: all ones.
    """
    return 1.0 - abnormality(errors)
