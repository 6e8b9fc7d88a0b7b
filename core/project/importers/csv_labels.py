"""Import labelled subclips from a CSV file of ``video, start, end, label`` rows.

* A header row is optional; with one, columns are found by name (``video``, ``start``, ``end``,
  ``label``, and optionally ``split``, ``value``, ``target``, ``note``); without one, the columns are
  ``video, start, end, label[, split]``.
* ``video`` is a video already in the project (its id, name or path), or a path (relative to the CSV
  file) to a video that is added.
* ``start`` / ``end`` are frames, 0-based and end exclusive (``unit="frames"``), or seconds
  (``unit="seconds"``: the frames whose display starts in ``[start, end)``, frame ``k`` starting at
  ``k / fps``, or at its real timestamp on a file with gapped or variable timestamps: the rule
  :func:`core.video.cutting.cut_subclip` uses; the video is opened to read its timing).
* ``label`` is a class of the schema; with ``create_classes`` unknown classes are added. A numeric
  label (or a ``value`` column) is a value of the schema's numeric target.

Every row is checked first; a bad row stops the import with an error naming the file and line, and
nothing is added. Good rows are added as one undoable action.
"""

from __future__ import annotations

import csv
import os
import threading
from pathlib import Path

import numpy as np

from core.errors import VideoError
from core.jobs import ProgressCallback, check_cancelled
from core.project.commands import AddEntities, Macro
from core.project.entities import LabelClass, Subclip, Video, new_id
from core.project.errors import ProjectError, ProjectValidationError
from core.project.importers.common import ImportResult
from core.project.validation import check_label, check_span, check_split
from core.project.videos import probe_video
from core.video import open_video
from core.video.timing import seconds_to_frames

DEFAULT_COLUMNS = ("video", "start", "end", "label", "split")


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ProjectValidationError(f"{what} {text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ProjectValidationError(f"{what} {text!r} is not a finite number")
    return value


def import_csv_labels(
    project,
    csv_path: str | Path,
    *,
    unit: str = "frames",
    create_classes: bool = False,
    fps: float | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ImportResult:
    """Add the subclips listed in ``csv_path`` to ``project`` (see the module doc for the format)."""
    from core.project.project import PALETTE

    if unit not in ("frames", "seconds"):
        raise ProjectValidationError(f"unit must be 'frames' or 'seconds', not {unit!r}")
    csv_path = Path(csv_path).expanduser()
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ProjectValidationError(f"{csv_path}: cannot be read as CSV ({exc})") from exc
    rows = [(n, r) for n, r in enumerate(rows, 1) if r and any(c.strip() for c in r) and not r[0].startswith("#")]
    if not rows:
        raise ProjectValidationError(f"{csv_path}: no rows")
    header = [c.strip().lower() for c in rows[0][1]]
    if "video" in header and "start" in header:
        columns = header
        rows = rows[1:]
        missing = {"video", "start", "end"} - set(columns)
        if missing:
            raise ProjectValidationError(f"{csv_path}: the header has no {sorted(missing)[0]!r} column")
    else:
        columns = list(DEFAULT_COLUMNS)
    data = project.data
    new_videos: dict[str, Video] = {}
    new_classes: dict[str, LabelClass] = {}
    clips: list[Subclip] = []
    errors: list[str] = []
    timings: dict[str, tuple[float, np.ndarray | None]] = {}  # per video: its timing, read once
    for lineno, row in rows:
        check_cancelled(cancel, "CSV import")
        fields = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(columns)}
        try:
            video = _find_video(project, fields["video"], csv_path.parent, new_videos, fps)
            start, end = _number(fields["start"], "start"), _number(fields["end"], "end")
            if unit == "seconds":  # the frames whose display starts in [start, end), as cuts take them
                start_f, end_f = seconds_to_frames(start, end, *_timing(video, timings))
            elif start != int(start) or end != int(end):
                raise ProjectValidationError(f"frames must be whole numbers, not {fields['start']}..{fields['end']}")
            else:
                start_f, end_f = int(start), int(end)
            check_span(video, start_f, end_f)
            label_text = fields.get("label", "")
            value = _number(fields["value"], "value") if fields.get("value") else None
            target = fields.get("target") or None
            label = None
            if label_text:
                if label_text in data.classes or label_text in new_classes:
                    label = label_text
                elif value is None and data.targets and _is_number(label_text):
                    value = float(label_text)
                elif create_classes:
                    color = PALETTE[(len(data.classes) + len(new_classes)) % len(PALETTE)]
                    new_classes[label_text] = LabelClass(label_text, color=color)
                    label = label_text
                else:
                    raise ProjectValidationError(
                        f"label {label_text!r} is not in the label schema (classes: {', '.join(data.classes) or 'none'}); "
                        "add the class, or import with create_classes"
                    )
            if value is not None:
                check_label(data, None, value, target)
                target = target or next(iter(data.targets))
            split = fields.get("split") or None
            check_split(split)
            clips.append(Subclip(new_id(), video.id, start_f, end_f, label=label, value=value, target=target,
                                 split=split, note=fields.get("note", "")))
        except (ProjectError, VideoError) as exc:
            errors.append(f"{csv_path.name}, line {lineno}: {exc}")
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ProjectValidationError(f"{csv_path}: {len(errors)} bad row(s), nothing imported:\n  "
                                     + "\n  ".join(errors[:5]) + more)
    project.execute(Macro([
        AddEntities("classes", new_classes.values()), AddEntities("videos", new_videos.values()),
        AddEntities("subclips", clips),
    ], f"Import {len(clips)} subclips from {csv_path.name}"))
    return ImportResult(videos=[v.id for v in new_videos.values()], subclips=[c.id for c in clips],
                        classes=list(new_classes))


def _timing(video: Video, timings: dict[str, tuple[float, np.ndarray | None]]) -> tuple[float, np.ndarray | None]:
    """``(fps, frame_times)`` of ``video`` for seconds-to-frames: the frames' real timestamps on a file
    whose timing is gapped or variable (``None`` where frame ``k`` starts at ``k / fps``)."""
    if video.id not in timings:
        with open_video(video.path, fps=video.fps) as source:
            timings[video.id] = (source.fps, source.frame_times())
    return timings[video.id]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _find_video(project, key: str, base: Path, new_videos: dict[str, Video], fps: float | None) -> Video:
    if not key:
        raise ProjectValidationError("the video column is empty")
    data = project.data
    if key in data.videos:
        return data.videos[key]
    path = Path(os.path.abspath(base / Path(key).expanduser()))
    known = [*data.videos.values(), *new_videos.values()]
    for v in known:
        if v.path == path:
            return v
    named = [v for v in known if v.name == key]
    if len(named) > 1:
        raise ProjectValidationError(
            f"{len(named)} videos are called {key!r}; give the video's id, or its path relative to the CSV file")
    if named:
        return named[0]
    if not path.exists():
        raise ProjectValidationError(f"video {key!r} is neither in the project nor a file ({path} does not exist)")
    video = probe_video(path, fps=fps)
    project.check_not_duplicate(video, among=new_videos.values())
    new_videos[str(path)] = video
    return video
