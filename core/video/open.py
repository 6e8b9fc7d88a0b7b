"""``open_video``: one entry point for video files and image-sequence folders."""

from __future__ import annotations

from pathlib import Path

from core.errors import UnsupportedFormatError
from core.video.container import SINGLE_IMAGE_PROBLEM
from core.video.file_source import FileVideoSource
from core.video.image_sequence import IMAGE_EXTENSIONS, ImageSequenceSource
from core.video.source import VideoSource
from core.video.video_path import video_path_kind


def open_video(path: str | Path, fps: float | None = None) -> VideoSource:
    """Open a video file or a folder of images as a :class:`VideoSource`.

    ``fps`` sets the frame rate of an image folder (default 10); it is ignored for files, which
    carry their own. Raises a :class:`~core.errors.VideoError` subclass naming the path and the
    problem: missing path, empty file or folder, undecodable container, single image, text file, named
    pipe, device or symbolic link loop (:mod:`core.video.video_path`).
    Opening is cheap; the decoded frame count is learned by :meth:`VideoSource.scan`.
    """
    path = Path(path).expanduser()
    if video_path_kind(path) == "folder":
        return ImageSequenceSource(path, fps=fps)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise UnsupportedFormatError(path, SINGLE_IMAGE_PROBLEM)
    return FileVideoSource(path)
