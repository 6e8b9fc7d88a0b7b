"""Clip classification: accuracy, confusion matrix and per-class precision and recall.

Labels are class names or numbers, one per clip (or per window); ``classes`` fixes the order of the
matrix's rows (true class) and columns (predicted class).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.errors import EvaluationError


def _paired(truth: Sequence[Any], predicted: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    t, p = list(truth), list(predicted)
    if len(t) != len(p):
        raise EvaluationError(
            f"truth and predictions differ in length: {len(t)} true labels, {len(p)} predicted"
        )
    if not t:
        raise EvaluationError("truth: no labels given")
    return t, p


def accuracy(truth: Sequence[Any], predicted: Sequence[Any]) -> float:
    """Fraction of items whose predicted class equals the true one, in [0, 1]."""
    t, p = _paired(truth, predicted)
    return sum(a == b for a, b in zip(t, p, strict=True)) / len(t)


@dataclass(frozen=True)
class ConfusionMatrix:
    """``counts[i, j]``: items of true class ``classes[i]`` predicted as ``classes[j]``; ``(k, k)`` int64."""

    classes: tuple[Hashable, ...]
    counts: np.ndarray

    @property
    def accuracy(self) -> float:
        """The diagonal over the total, in [0, 1]."""
        return float(np.trace(self.counts) / self.counts.sum())

    def precision(self) -> dict[Hashable, float | None]:
        """Per class: items rightly predicted as it over all predicted as it; ``None`` if never predicted."""
        predicted = self.counts.sum(axis=0)
        return {
            c: (float(self.counts[i, i] / predicted[i]) if predicted[i] else None)
            for i, c in enumerate(self.classes)
        }

    def recall(self) -> dict[Hashable, float | None]:
        """Per class: its items predicted correctly over all its items; ``None`` if it never occurs."""
        actual = self.counts.sum(axis=1)
        return {
            c: (float(self.counts[i, i] / actual[i]) if actual[i] else None)
            for i, c in enumerate(self.classes)
        }


def confusion_matrix(
    truth: Sequence[Any], predicted: Sequence[Any], classes: Sequence[Hashable]
) -> ConfusionMatrix:
    """Confusion matrix in the order of ``classes``; a label not among ``classes`` is an error, named."""
    t, p = _paired(truth, predicted)
    order = list(classes)
    if len(set(order)) != len(order):
        raise EvaluationError(f"classes: listed twice in {order!r}")
    index = {c: i for i, c in enumerate(order)}
    counts = np.zeros((len(order), len(order)), np.int64)
    for n, (a, b) in enumerate(zip(t, p, strict=True)):
        for name, label in (("truth", a), ("predictions", b)):
            if label not in index:
                raise EvaluationError(f"{name}: item {n} has class {label!r}, not one of {order!r}")
        counts[index[a], index[b]] += 1
    return ConfusionMatrix(classes=tuple(order), counts=counts)
