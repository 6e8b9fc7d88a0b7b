"""Per-frame ground truth from a project's anomaly intervals, for frame-level evaluation (e.g. ROC AUC)."""

from __future__ import annotations

import numpy as np

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
    labels = np.zeros(count, bool)
    for interval in data.intervals.values():
        if interval.video_id == video_id:
            labels[max(0, interval.start) : min(count, interval.end)] = True
    return labels


def split_frame_labels(data: ProjectData, split: str = "test") -> dict[str, np.ndarray]:
    """:func:`frame_labels` of every video whose own ``split`` is ``split``, in project order."""
    return {v.id: frame_labels(data, v.id) for v in data.videos.values() if v.split == split}
