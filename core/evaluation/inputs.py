"""Checks shared by the metrics: scores with binary labels, and half-open frame intervals.

An interval is anything with integer ``start`` and ``end`` attributes (a project's anomaly interval, a
flagged event of the inference engine) or a plain ``(start, end)`` pair; both mean frames
``[start, end)``, the project's convention.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from core.errors import FramewatchError
from core.evaluation.errors import EvaluationError


def _positions(mask: np.ndarray, limit: int = 3) -> str:
    where = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in where[:limit])
    return shown + (", ..." if where.size > limit else "")


def as_scores(scores: Any, name: str = "scores", *, allow_empty: bool = False,
              error: type[FramewatchError] = EvaluationError) -> np.ndarray:
    """``(n,)`` float64 from a 1-D sequence: the one check of a score series, for metrics and scoring alike.

    Raises ``error`` (:class:`EvaluationError` for metrics; scoring passes its
    :class:`~core.inference.errors.ScoreError`) when the series is not 1-D, holds NaN or infinities, or is
    empty (unless ``allow_empty``: a live series before its first frame).
    """
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1:
        raise error(f"{name}: expected one score per frame (1-D), got shape {array.shape}")
    if array.size == 0 and not allow_empty:
        raise error(f"{name}: empty")
    bad = ~np.isfinite(array)
    if bad.any():
        raise error(f"{name}: {int(bad.sum())} NaN or infinite values (at {_positions(bad)})")
    return array


def as_labels(labels: Any, name: str = "labels") -> np.ndarray:
    """``(n,)`` bool from booleans or 0/1 numbers (``True``/1 = abnormal, the positive class)."""
    array = np.asarray(labels)
    if array.ndim != 1:
        raise EvaluationError(f"{name}: expected one label per frame (1-D), got shape {array.shape}")
    if array.dtype == bool:
        return array
    if not np.issubdtype(array.dtype, np.number):
        raise EvaluationError(f"{name}: expected booleans or 0/1, got {array.dtype} values")
    bad = (array != 0) & (array != 1)
    if bad.any():
        raise EvaluationError(
            f"{name}: expected booleans or 0/1, got {array[bad][0]!r} (at {_positions(bad)})"
        )
    return array.astype(bool)


def scores_and_labels(scores: Any, labels: Any, both_classes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Checked ``(scores, labels)`` of equal length; with ``both_classes``, both classes occur."""
    s = as_scores(scores)
    y = as_labels(labels)
    if s.shape != y.shape:
        raise EvaluationError(f"scores and labels differ in length: {s.size} scores, {y.size} labels")
    if both_classes:
        positives = int(y.sum())
        if positives == 0 or positives == y.size:
            only = "abnormal" if positives else "normal"
            raise EvaluationError(
                f"labels: all {y.size} frames are {only}; a ROC curve needs both normal and abnormal frames"
            )
    return s, y


def as_interval(item: Any, name: str = "interval") -> tuple[int, int]:
    """``(start, end)`` of an object with ``start``/``end`` or of a pair: frames ``[start, end)``."""
    if hasattr(item, "start") and hasattr(item, "end"):
        start, end = item.start, item.end
    else:
        try:
            start, end = item
        except (TypeError, ValueError):
            raise EvaluationError(
                f"{name}: expected (start, end) or an object with start and end, got {item!r}"
            ) from None
    try:
        start_i, end_i = int(start), int(end)
    except (TypeError, ValueError):
        raise EvaluationError(
            f"{name}: start and end must be frame numbers, got {start!r}, {end!r}"
        ) from None
    if start_i != start or end_i != end:
        raise EvaluationError(f"{name}: start and end must be whole frame numbers, got {start!r}, {end!r}")
    if start_i < 0 or end_i <= start_i:
        raise EvaluationError(
            f"{name}: frames [{start_i}, {end_i}) are not a non-empty range from frame 0 on"
        )
    return start_i, end_i


def as_intervals(items: Iterable[Any], name: str = "interval") -> list[tuple[int, int]]:
    """:func:`as_interval` of each item, in the given order."""
    return [as_interval(item, f"{name} {i}") for i, item in enumerate(items)]
