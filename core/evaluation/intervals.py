"""Frame labels from half-open anomaly intervals ``[start, end)``.

For a project's videos, :func:`core.data.ground_truth.frame_labels` and
:func:`core.data.ground_truth.split_frame_labels` give the labels straight from the project file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from core.evaluation.errors import EvaluationError
from core.evaluation.inputs import as_intervals


def labels_from_intervals(length: int, intervals: Iterable[Any]) -> np.ndarray:
    """``(length,)`` bool: ``True`` at frame ``k`` (0-based) when some interval has ``start <= k < end``.

    ``intervals`` are ``(start, end)`` pairs or objects with ``start`` and ``end`` (a project's
    :class:`~core.project.entities.AnomalyInterval`); intervals reaching past ``length`` are clipped, as the
    project's own ground truth is.
    """
    if int(length) != length or length < 0:
        raise EvaluationError(f"length: expected a frame count (0 or more), got {length!r}")
    labels = np.zeros(int(length), bool)
    for start, end in as_intervals(intervals):
        labels[start:end] = True
    return labels
