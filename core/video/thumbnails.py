"""Small pictures of videos for lists (the app's video list; any report that shows footage)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.video.open import open_video


def video_thumbnail(path: str | Path, fps: float | None = None, frame: int | None = None,
                    max_size: int = 168) -> np.ndarray:
    """An RGB ``uint8`` picture ``(H, W, 3)`` of frame ``frame`` (default: a tenth of the way in), longest
    side at most ``max_size`` pixels; ``fps`` is an image folder's frame rate (frames per second).

    Decodes one frame (see :meth:`core.video.VideoSource.thumbnail`); raises
    :class:`~core.errors.VideoError` for a path that cannot be read.
    """
    with open_video(path, fps=fps) as source:
        return source.thumbnail(frame, max_size=max_size)
