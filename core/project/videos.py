"""Turn a video file or image folder into a :class:`~core.project.entities.Video` entity."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from core.errors import VideoError
from core.jobs import ProgressCallback
from core.project.entities import SPLITS, Video, new_id, now_iso
from core.project.errors import ProjectValidationError
from core.project.fingerprint import fingerprint
from core.project.schema import MAX_FPS, MIN_FPS


def probe_video(
    path: str | Path,
    *,
    fps: float | None = None,
    name: str | None = None,
    split: str | None = None,
    scan: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Video:
    """Open ``path``, read its metadata (and with ``scan`` decode it once to count the frames that
    decode), fingerprint it, and return a new :class:`Video` (not yet in any project).

    Raises :class:`~core.errors.VideoError` for files that cannot be read as video, and
    :class:`ProjectValidationError` for a bad ``split`` or ``fps``. ``fps`` sets an image folder's frame
    rate; it, and a file's own, must be one a project keeps (:data:`~core.project.schema.MIN_FPS` to
    :data:`~core.project.schema.MAX_FPS`), else the project file could not be opened again.
    """
    from core.video import open_video

    if split is not None and split not in SPLITS:
        raise ProjectValidationError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if fps is not None and not (isinstance(fps, int | float) and MIN_FPS <= fps <= MAX_FPS):
        raise ProjectValidationError(f"{path}: frames per second must be from {MIN_FPS:g} to {MAX_FPS:g}, not {fps!r}")
    path = Path(os.path.abspath(Path(path).expanduser()))
    with open_video(path, fps=fps) as source:
        meta = source.scan(progress=progress, cancel=cancel) if scan else source.metadata
    if not MIN_FPS <= meta.fps <= MAX_FPS:
        raise VideoError(path, f"frame rate {meta.fps:g} fps is outside what a project keeps ({MIN_FPS:g} to "
                               f"{MAX_FPS:g})")
    try:
        fp = fingerprint(path)
    except OSError as exc:
        raise VideoError(path, f"cannot be read to fingerprint it ({exc.strerror or exc})") from exc
    return Video(
        id=new_id(), path=path, name=name or path.name, kind=meta.kind, width=meta.width, height=meta.height,
        fps=float(meta.fps), frame_count=meta.frame_count, fingerprint=fp,
        declared_frame_count=meta.declared_frame_count, codec=meta.codec, split=split, added=now_iso(),
    )
