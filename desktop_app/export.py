"""What to export when the analyst writes subclips to files: names and the call into ``core``.

The cutting itself is :func:`core.video.cutting.cut_subclip`; :func:`export_subclips` only runs it for
each subclip in turn with one progress bar and one cancel token.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from core.jobs import Progress, ProgressCallback, check_cancelled, report
from core.project import Subclip, Video
from core.video.cutting import cut_subclip


@dataclass(frozen=True)
class ExportItem:
    source: Path
    output: Path
    start: int
    end: int  # exclusive
    fps: float | None  # for image folders


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "clip"


def plan_export(clips: list[Subclip], videos: dict[str, Video], folder: Path, suffix: str = ".mp4") -> list[ExportItem]:
    """One output file per subclip: ``<video>_<first>-<last>_<label>.mp4`` in ``folder``."""
    items = []
    for s in sorted(clips, key=lambda s: (videos[s.video_id].name, s.start)):
        video = videos[s.video_id]
        tag = s.label or (f"{s.target}={s.value:g}" if s.value is not None else "unlabelled")
        name = f"{_safe(video.name)}_{s.start:06d}-{s.end - 1:06d}_{_safe(tag)}{suffix}"
        fps = video.fps if video.kind == "image_sequence" else None
        items.append(ExportItem(video.path, folder / name, s.start, s.end, fps))
    return items


def export_subclips(
    items: list[ExportItem],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[Path]:
    """Cut every item to its file; progress counts frames over all items. Returns the files written."""
    total = sum(i.end - i.start for i in items) or 1
    done = 0
    written: list[Path] = []
    for n, item in enumerate(items, 1):
        check_cancelled(cancel, "export")
        offset = done

        def scaled(event: Progress, offset: int = offset, label: str = f"{item.output.name} ({n} of {len(items)})") -> None:
            report(progress, offset + event.done, total, label)

        cut_subclip(item.source, item.output, item.start, item.end, unit="frames", fps=item.fps,
                    progress=scaled, cancel=cancel)
        done += item.end - item.start
        written.append(item.output)
        report(progress, done, total, f"wrote {item.output.name}")
    return written
