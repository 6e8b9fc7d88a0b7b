"""Count the frames of videos by decoding them: the exact count a header may not give.

Videos added without a scan (``add-video --no-scan``, or opened as a bare video in the app) carry only
the count their header declares, which can be wrong for damaged or variable-frame-rate files.
:func:`scan_frame_counts` decodes each once and records the count that decodes, as one undoable edit.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import Cancelled, FramewatchError
from core.jobs import Progress, ProgressCallback, check_cancelled, report
from core.project.commands import ReplaceEntities
from core.project.project import Project
from core.video.open import open_video


def count_frames(path: str | Path, fps: float | None = None, progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None) -> int:
    """The number of frames of ``path`` that decode (a full decode; progress counts frames)."""
    with open_video(path, fps=fps) as source:
        source.scan(progress=progress, cancel=cancel)
        return source.frame_count


@dataclass(frozen=True)
class ScannedVideo:
    """One video's frame count before (``None``: never scanned) and after the scan."""

    video_id: str
    name: str
    before: int | None
    after: int


@dataclass
class ScanResult:
    """The videos scanned, and ``"path: problem"`` for those that could not be (missing, unreadable)."""

    scanned: list[ScannedVideo] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def scan_frame_counts(
    project: Project,
    video_ids: list[str] | None = None,
    rescan: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ScanResult:
    """Decode the videos that have no scanned frame count (all of ``video_ids``, or all, with ``rescan``).

    Progress counts frames over all videos (their declared counts as the total). The new counts are
    written as one undoable edit, only when every video was done: a cancel (:class:`Cancelled`) leaves
    the project unchanged. Image folders keep their frame rate.
    """
    ids = list(project.videos) if video_ids is None else [project.video(v).id for v in video_ids]
    todo = [project.videos[i] for i in ids if rescan or project.videos[i].frame_count is None]
    total = sum(max(1, v.declared_frame_count) for v in todo)
    result = ScanResult()
    replaced = []
    offset = 0
    for video in todo:
        check_cancelled(cancel, "frame count scan")

        def step(event: Progress, base: int = offset, name: str = video.name) -> None:
            report(progress, base + event.done, total, f"scanning {name}")

        try:
            count = count_frames(video.path, fps=video.fps if video.kind == "image_sequence" else None,
                                 progress=step, cancel=cancel)
        except Cancelled:
            raise
        except FramewatchError as exc:
            result.problems.append(str(exc))
        else:
            result.scanned.append(ScannedVideo(video.id, video.name, video.frame_count, count))
            if count != video.frame_count:
                replaced.append(dataclasses.replace(video, frame_count=count))
        offset += max(1, video.declared_frame_count)
    if replaced:
        n = len(replaced)
        project.execute(ReplaceEntities("videos", replaced, f"Scan frame count{'s' if n > 1 else ''} of {n} video"
                                        f"{'s' if n > 1 else ''}"))
    report(progress, total, total, "done")
    return result
