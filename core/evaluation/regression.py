"""Clip regression: mean absolute error and root mean squared error, in the units of the target."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.evaluation.errors import EvaluationError
from core.evaluation.inputs import as_scores


def _paired(truth: Any, predicted: Any) -> np.ndarray:
    t = as_scores(truth, "truth")
    p = as_scores(predicted, "predictions")
    if t.shape != p.shape:
        raise EvaluationError(
            f"truth and predictions differ in length: {t.size} true values, {p.size} predicted"
        )
    return p - t


def mae(truth: Any, predicted: Any) -> float:
    """Mean of ``|predicted - truth|`` over ``(n,)`` values, in the target's units."""
    return float(np.mean(np.abs(_paired(truth, predicted))))


def rmse(truth: Any, predicted: Any) -> float:
    """Square root of the mean of ``(predicted - truth)^2`` over ``(n,)`` values, in the target's units."""
    return float(np.sqrt(np.mean(_paired(truth, predicted) ** 2)))
