"""The flag rule (a frame is flagged when its score is above the threshold: ``score > threshold``), and the
frame-level precision, recall and F1 of the frames it flags.

:func:`above_threshold` is the rule's one definition: events (:mod:`core.inference.anomaly.events`), exports and
these counts all flag through it, so a frame exactly at the threshold is normal everywhere. (An ROC curve
is a different thing: its points are parameterised by ``score >= t`` over the distinct scores.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.errors import EvaluationError
from core.evaluation.inputs import scores_and_labels


def above_threshold(scores: Any, threshold: float) -> Any:
    """Whether ``scores`` are flagged at ``threshold``: ``score > threshold`` (a frame at the threshold is
    normal). Works on one number (a ``bool``) or on an array (a ``bool`` array of its shape)."""
    return scores > threshold


@dataclass(frozen=True)
class FrameDetection:
    """Confusion counts of flagged vs abnormal frames, and the rates they give.

    ``true_positives`` are abnormal frames flagged, ``false_positives`` normal frames flagged,
    ``false_negatives`` abnormal frames missed, ``true_negatives`` normal frames left alone.
    """

    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int

    @property
    def precision(self) -> float | None:
        """Fraction of flagged frames that are abnormal; ``None`` when no frame is flagged."""
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        """Fraction of abnormal frames flagged; ``None`` when no frame is abnormal."""
        abnormal = self.true_positives + self.false_negatives
        return self.true_positives / abnormal if abnormal else None

    @property
    def f1(self) -> float | None:
        """``2 TP / (2 TP + FP + FN)``, the harmonic mean of precision and recall; 0 when either is 0 or
        undefined while the other is not, ``None`` when no frame is flagged and none is abnormal."""
        denominator = 2 * self.true_positives + self.false_positives + self.false_negatives
        return 2 * self.true_positives / denominator if denominator else None


def frame_detection(scores: Any, labels: Any, threshold: float) -> FrameDetection:
    """Counts of ``(frames,)`` scores flagged at ``threshold`` (:func:`above_threshold`) against ``(frames,)``
    binary labels.

    One class alone is allowed here (a video without anomalies still has false positives).
    """
    s, y = scores_and_labels(scores, labels, both_classes=False)
    if np.isnan(threshold):
        raise EvaluationError("threshold: NaN")
    flagged = above_threshold(s, threshold)
    tp = int(np.sum(flagged & y))
    fp = int(np.sum(flagged & ~y))
    fn = int(np.sum(~flagged & y))
    return FrameDetection(
        true_positives=tp, false_positives=fp, false_negatives=fn, true_negatives=y.size - tp - fp - fn
    )
