"""Per-frame ground truth from a project's anomaly intervals, for frame-level evaluation (e.g. ROC AUC)."""

from __future__ import annotations

import numpy as np

from core.evaluation.intervals import labels_from_intervals
from core.project.entities import ProjectData
from core.project.errors import DatasetError


def frame_labels(data: ProjectData, video_id: str, frame_count: int | None = None) -> np.ndarray:
    """``(frames,)`` bool: ``True`` where frame ``k`` (0-based) lies in one of the video's anomaly intervals.

    ``frame_count`` defaults to the video's decoded frame count; intervals reaching past it are clipped.
    """
    video = data.videos.get(video_id)
    if video is None:
        raise DatasetError(f"no video {video_id!r} in the project")
    count = video.known_frame_count if frame_count is None else frame_count
    return labels_from_intervals(count, [i for i in data.intervals.values() if i.video_id == video_id])


def split_frame_labels(data: ProjectData, split: str = "test", val_fraction: float = 0.2,
                      seed: int = 0) -> dict[str, np.ndarray]:
    """:func:`frame_labels` of every video the datasets put in ``split``, in project order.

    Videos are assigned as :func:`core.data.splits.assign_splits` does for datasets (the video's own
    split, else the one its subclips name, else automatic with ``val_fraction`` and ``seed``).
    """
    from core.data.splits import assign_splits

    splits = assign_splits(data, val_fraction, seed)
    return {v.id: frame_labels(data, v.id) for v in data.videos.values() if splits[v.id] == split}
