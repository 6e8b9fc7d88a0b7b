"""Frame-level ROC curve, ROC AUC and equal error rate, in numpy.

Conventions: a higher score means more abnormal; ``labels`` are ``True`` (or 1) for abnormal frames, the
positive class; a frame is flagged at threshold ``t`` when ``score >= t``. Ties are handled exactly: the
curve has one point per distinct score (all frames with that score change class together), so the AUC
equals the Mann-Whitney U statistic with tied (abnormal, normal) pairs counted one half.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.inputs import scores_and_labels


@dataclass(frozen=True)
class RocCurve:
    """ROC points, from ``(0, 0)`` at threshold ``+inf`` to ``(1, 1)`` at the lowest score.

    ``fpr``, ``tpr`` and ``thresholds`` are ``(points,)`` float64 arrays; point ``i`` is what flagging
    ``score >= thresholds[i]`` gives. ``thresholds`` decrease strictly; ``fpr`` and ``tpr`` never decrease.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True)
class EqualErrorRate:
    """Where the false positive rate equals the false negative rate (``fpr == 1 - tpr``).

    ``rate`` is in [0, 1]; ``threshold`` is in score units (see :func:`equal_error_rate` for how it is
    interpolated).
    """

    rate: float
    threshold: float


def roc_curve(scores: Any, labels: Any) -> RocCurve:
    """ROC curve of ``(n,)`` scores against ``(n,)`` binary labels, one point per distinct score.

    Raises :class:`~core.evaluation.errors.EvaluationError` (a ``ValueError``) for NaN or infinite scores,
    lengths that differ, or labels of one class only.
    """
    s, y = scores_and_labels(scores, labels)
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    y_sorted = y[order]
    # Last index of each run of equal scores: the curve moves only where the score changes.
    last = np.flatnonzero(np.diff(s_sorted) != 0)
    last = np.append(last, s.size - 1)
    tp = np.cumsum(y_sorted)[last]
    fp = (last + 1) - tp
    positives = int(y.sum())
    negatives = y.size - positives
    fpr = np.concatenate([[0.0], fp / negatives])
    tpr = np.concatenate([[0.0], tp / positives])
    thresholds = np.concatenate([[np.inf], s_sorted[last]])
    return RocCurve(fpr=fpr, tpr=tpr, thresholds=thresholds)


def roc_auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve, in [0, 1]: the chance that a random abnormal frame outscores a normal one.

    Computed from mid-ranks as the Mann-Whitney U statistic divided by ``positives * negatives``, so a tie
    between an abnormal and a normal frame counts one half; this equals the trapezoidal area under
    :func:`roc_curve`. Raises as :func:`roc_curve` does.
    """
    s, y = scores_and_labels(scores, labels)
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    # Ranks 1..n; a run of equal scores shares the mean of the ranks it covers.
    first_rank = np.cumsum(counts) - counts + 1
    mid_rank = first_rank + (counts - 1) / 2.0
    ranks = mid_rank[inverse]
    positives = int(y.sum())
    negatives = y.size - positives
    u = ranks[y].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def equal_error_rate(scores: Any, labels: Any) -> EqualErrorRate:
    """The equal error rate and its threshold, interpolated linearly between the two ROC points around it.

    Along the curve ``fpr + tpr - 1`` rises strictly from -1 to 1; the EER lies where it crosses 0. When a
    ROC point lies exactly there its rate and threshold are returned; otherwise both are interpolated along
    the segment between the neighbouring points (the segment from ``(0, 0)``, whose threshold is ``+inf``,
    takes the threshold of its other end, the highest score). Raises as :func:`roc_curve` does.
    """
    curve = roc_curve(scores, labels)
    gap = curve.fpr + curve.tpr - 1.0
    i = int(np.argmax(gap >= 0.0))
    if gap[i] == 0.0:
        return EqualErrorRate(rate=float(curve.fpr[i]), threshold=float(curve.thresholds[i]))
    fraction = -gap[i - 1] / (gap[i] - gap[i - 1])
    rate = curve.fpr[i - 1] + fraction * (curve.fpr[i] - curve.fpr[i - 1])
    upper = curve.thresholds[i - 1]
    lower = curve.thresholds[i]
    threshold = lower if np.isinf(upper) else upper + fraction * (lower - upper)
    return EqualErrorRate(rate=float(rate), threshold=float(threshold))
