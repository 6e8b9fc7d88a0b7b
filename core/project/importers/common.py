"""Helpers shared by the importers: finding videos in a folder, probing many with progress."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import VideoError
from core.jobs import ProgressCallback, check_cancelled, report
from core.project.entities import Video
from core.project.errors import ProjectValidationError
from core.project.videos import probe_video

#: Extensions taken as video files when a folder is searched.
VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm", ".flv"})


@dataclass
class ImportResult:
    """What an import added (ids), and what it skipped with why."""

    videos: list[str] = field(default_factory=list)
    subclips: list[str] = field(default_factory=list)
    intervals: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def is_image_folder(path: Path) -> bool:
    from core.video import IMAGE_EXTENSIONS

    return path.is_dir() and any(p.suffix.lower() in IMAGE_EXTENSIONS for p in path.iterdir() if p.is_file())


def find_videos(folder: Path) -> list[Path]:
    """Video files and image-sequence folders directly in ``folder``, in natural order.

    Folders whose name ends with ``_gt`` (UCSD pixel masks) are skipped.
    """
    from core.video.natural_sort import natural_key

    found = []
    for p in folder.iterdir():
        if p.name.startswith("."):
            continue
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS or p.is_dir() and not p.name.lower().endswith("_gt") and is_image_folder(p):
            found.append(p)
    return sorted(found, key=lambda p: natural_key(p.name))


def probe_all(
    items: list[tuple[Path, dict]],
    *,
    fps: float | None,
    scan: bool,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    on_error: Callable[[Path, VideoError], None] | None = None,
) -> list[Video | None]:
    """Probe every ``(path, probe_video keyword arguments)``; progress counts videos.

    A :class:`VideoError` is passed to ``on_error`` (the video is then ``None``) or, without one, raised.
    """
    out: list[Video | None] = []
    for n, (path, kwargs) in enumerate(items):
        check_cancelled(cancel, "import")
        report(progress, n, len(items), f"reading {path.name}")
        try:
            out.append(probe_video(path, fps=fps, scan=scan, cancel=cancel, **kwargs))
        except VideoError as exc:
            if on_error is None:
                raise
            on_error(path, exc)
            out.append(None)
    report(progress, len(items), len(items), f"read {len(items)} videos")
    return out


def require_folder(path: Path, what: str) -> Path:
    path = Path(path).expanduser()
    if not path.is_dir():
        raise ProjectValidationError(f"{path}: {what} is not a folder" if path.exists() else f"{path}: no such folder")
    return path
