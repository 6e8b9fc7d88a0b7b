"""Probe several videos at once: what the app does when files are added or dropped on the window.

Each path is opened (and with ``scan`` decoded once to count its frames) and turned into a
:class:`~core.project.entities.Video`; a file that cannot be read does not stop the others but is
reported by name. Used by the GUI in a worker thread and by ``framewatch project add-video``'s twin.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import Cancelled, FramewatchError
from core.jobs import ProgressCallback, check_cancelled, report
from core.project.entities import Video
from core.project.videos import probe_video


@dataclass
class ProbedVideos:
    """The videos that read (new entities, in no project yet) and ``"path: problem"`` for the others."""

    videos: list[Video] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def probe_videos(
    paths: list[Path],
    fps: float | None = None,
    scan: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ProbedVideos:
    """Probe each path in turn (``fps``: frame rate given to image folders, frames per second).

    Progress counts paths; a cancel stops between paths and inside a scan (:class:`Cancelled`).
    """
    result = ProbedVideos()
    for n, path in enumerate(paths):
        check_cancelled(cancel, "adding videos")
        report(progress, n, len(paths), f"reading {Path(path).name}")
        try:
            result.videos.append(probe_video(path, fps=fps if Path(path).is_dir() else None, scan=scan,
                                             cancel=cancel))
        except Cancelled:
            raise
        except FramewatchError as exc:
            result.problems.append(str(exc))
    report(progress, len(paths), len(paths), "done")
    return result
