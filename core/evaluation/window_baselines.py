"""No-learning baselines for window classification: the majority class, and thresholds on frame difference and
on the largest optical-flow speed in view.

All are fitted on the training side only (the majority class of the training labels; the threshold that
gives the best balanced accuracy on the training windows) and then applied unchanged to held-out windows,
as a learned classifier is.
"""

from __future__ import annotations

import numpy as np

from core.evaluation.errors import EvaluationError


def frame_difference(frames: np.ndarray, patch: int = 4) -> np.ndarray:
    """``(count,)`` float: per frame, the largest mean absolute difference from the previous frame over
    ``patch`` x ``patch`` cells, frames ``(count, height, width)`` uint8 read as [0, 1]. Frame 0 has no
    previous frame and gets 0 (window scores never read it, :func:`window_motion`)."""
    frames = np.asarray(frames)
    if frames.ndim != 3 or len(frames) < 1:
        raise EvaluationError(f"frames must be (count >= 1, height, width), not {frames.shape}")
    out = np.zeros(len(frames))
    if len(frames) < 2:
        return out
    diff = np.abs(np.diff(frames.astype(np.float32) / 255.0, axis=0))
    h, w = (frames.shape[1] // patch) * patch, (frames.shape[2] // patch) * patch
    if not h or not w:
        raise EvaluationError(f"frames of {frames.shape[1]}x{frames.shape[2]} are smaller than a {patch}x{patch} cell")
    cells = diff[:, :h, :w].reshape(len(diff), h // patch, patch, w // patch, patch).mean(axis=(2, 4))
    out[1:] = cells.max(axis=(1, 2))
    return out


def frame_speed(maps: np.ndarray) -> np.ndarray:
    """``(count,)`` float: per speed map of ``maps`` ``(count, height, width[, 1])`` uint8
    (:mod:`core.motion.speed`), the largest speed in it, in pixels a frame at the flow's working size. Read
    over a window with :func:`window_motion`, as frame difference is."""
    from core.motion.speed import SPEED_FULL_SCALE

    maps = np.asarray(maps)
    if maps.ndim not in (3, 4) or len(maps) < 1:
        raise EvaluationError(f"speed maps must be (count >= 1, height, width[, 1]), not {maps.shape}")
    return maps.reshape(len(maps), -1).max(axis=1).astype(np.float64) * (SPEED_FULL_SCALE / 255.0)


def window_motion(per_frame: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """``(n,)``: per window, the mean of ``per_frame`` (:func:`frame_difference`, :func:`frame_speed`) over its
    frames 1 .. length - 1 (the motion between its own consecutive frames; a 1-frame window scores 0)."""
    if length < 2:
        return np.zeros(len(starts))
    cumulative = np.concatenate([[0.0], np.cumsum(per_frame)])
    starts = np.asarray(starts, np.int64)
    return (cumulative[starts + length] - cumulative[starts + 1]) / (length - 1)


def balanced_accuracy_of(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Mean over the classes present in ``truth`` of the fraction of their items predicted right, in [0, 1]."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    if truth.shape != predicted.shape or not truth.size:
        raise EvaluationError(f"truth {truth.shape} and predictions {predicted.shape} must be the same non-empty shape")
    return float(np.mean([np.mean(predicted[truth == c] == c) for c in np.unique(truth)]))


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The threshold ``t`` for which "positive when score > t" has the best balanced accuracy on
    ``(scores, labels)`` (0/1); among ties the smallest. Candidates lie midway between sorted distinct scores
    (and below the lowest)."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, np.int64)
    if scores.shape != labels.shape or not scores.size:
        raise EvaluationError(f"scores {scores.shape} and labels {labels.shape} must be the same non-empty shape")
    distinct = np.unique(scores)
    candidates = np.concatenate([[distinct[0] - 1.0], (distinct[:-1] + distinct[1:]) / 2])
    results = [balanced_accuracy_of(labels, (scores > t).astype(np.int64)) for t in candidates]
    return float(candidates[int(np.argmax(results))])


def majority_class(labels: np.ndarray) -> int:
    """The most frequent label (the smallest among ties)."""
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    if not len(values):
        raise EvaluationError("labels: none given")
    return int(values[int(np.argmax(counts))])
