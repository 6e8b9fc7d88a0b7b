"""Frame-level ROC AUC and EER over several videos, with and without per-video normalisation.

The literature on UCSD Ped2 and Avenue reports frame-level AUC on scores min-max normalised per video
(:func:`~core.evaluation.normalise.abnormality`) and then pooled; pooling raw errors is the stricter
figure (one threshold must serve every video). :func:`frame_level_scores` reports both, and the AUC of
each video on its own where that video has normal and abnormal frames. The normalised pool holds the videos
with an abnormal frame only: normalising a video of normal footage alone maps its worst normal frame to 1,
which says nothing of it (benchmarks such as Ped2 have an anomaly in every test video; a project's test
split may also hold unseen normal footage). The raw pool holds every video.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.evaluation.errors import EvaluationError
from core.evaluation.inputs import scores_and_labels
from core.evaluation.normalise import abnormality
from core.evaluation.roc import EqualErrorRate, equal_error_rate, roc_auc


@dataclass(frozen=True)
class PooledRoc:
    """AUC (in [0, 1]) and equal error rate of the frames of every video pooled into one ranking."""

    auc: float
    eer: EqualErrorRate


@dataclass(frozen=True)
class FrameLevelScores:
    """Frame-level results over several videos.

    ``normalised`` pools per-video abnormality sa(t) of the videos holding an abnormal frame (all of them
    when none does); ``raw`` pools the errors of every video as they are. ``per_video``
    maps each video (its key in the input, or its index in a sequence) to its own AUC; videos with only one
    class of frames have no AUC and are left out. ``frames`` and ``abnormal_frames`` count the pool.
    """

    normalised: PooledRoc
    raw: PooledRoc
    per_video: dict[Hashable, float]
    frames: int
    abnormal_frames: int


def frame_level_scores(
    videos: Mapping[Hashable, tuple[Any, Any]] | Sequence[tuple[Any, Any]],
) -> FrameLevelScores:
    """ROC AUC and EER of per-video ``(errors, labels)`` pairs, each ``(frames,)`` of that video.

    ``videos`` is a mapping from a video id to its pair, or a sequence of pairs. Raises
    :class:`~core.evaluation.errors.EvaluationError` naming the video when a pair is malformed, and when
    the pooled frames hold one class only.
    """
    items = list(videos.items()) if isinstance(videos, Mapping) else list(enumerate(videos))
    if not items:
        raise EvaluationError("videos: none given")
    raw_parts: list[np.ndarray] = []
    normalised_parts: list[np.ndarray] = []
    normalised_labels: list[np.ndarray] = []
    label_parts: list[np.ndarray] = []
    per_video: dict[Hashable, float] = {}
    for key, pair in items:
        try:
            errors, labels = pair
            e, y = scores_and_labels(errors, labels, both_classes=False)
        except (TypeError, ValueError) as error:
            raise EvaluationError(f"video {key!r}: {error}") from None
        raw_parts.append(e)
        label_parts.append(y)
        if y.any():
            normalised_parts.append(abnormality(e))
            normalised_labels.append(y)
        if 0 < y.sum() < y.size:
            per_video[key] = roc_auc(e, y)
    labels = np.concatenate(label_parts)
    raw = np.concatenate(raw_parts)
    if normalised_parts:
        normalised, normal_labels = np.concatenate(normalised_parts), np.concatenate(normalised_labels)
    else:  # no abnormal frame anywhere: the pooled AUC below says so
        normalised, normal_labels = np.concatenate([abnormality(e) for e in raw_parts]), labels
    return FrameLevelScores(
        normalised=PooledRoc(auc=roc_auc(normalised, normal_labels), eer=equal_error_rate(normalised, normal_labels)),
        raw=PooledRoc(auc=roc_auc(raw, labels), eer=equal_error_rate(raw, labels)),
        per_video=per_video,
        frames=int(labels.size),
        abnormal_frames=int(labels.sum()),
    )
