"""Export a project's labelling work: CSV and JSON tables, and labelled subclips as video files.

Frames in exported tables are 0-based with ``end`` exclusive, like everywhere in the project; seconds
columns (``start_s``, ``end_s``) are added for convenience (``frame / fps``). ``subclips.csv`` can be read
back by :func:`core.project.importers.import_csv_labels`.

Every export checks all the files it will write before writing the first: none may be the project's own
files or one of its videos (however the path is spelled), and an existing file is replaced only with
``overwrite=True`` (the CLI's ``--overwrite``; the app asks first).
"""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path
from typing import Any

from core.atomic_write import write_json, write_text
from core.file_names import safe_file_stem
from core.jobs import ProgressCallback, check_cancelled, report
from core.project.entities import Subclip
from core.project.errors import ProjectError
from core.project.own_files import refuse_own_files

SUBCLIP_COLUMNS = ("video", "start", "end", "label", "value", "target", "split", "note", "start_s", "end_s",
                   "video_id", "video_path", "id")
INTERVAL_COLUMNS = ("video", "start", "end", "start_s", "end_s", "source", "note", "video_id", "id")
VERDICT_COLUMNS = ("video", "start", "end", "verdict", "note", "run", "score", "updated", "video_id", "id")
CLASS_COLUMNS = ("name", "color", "shortcut", "description")


def _rows(project) -> dict[str, list[dict[str, Any]]]:
    videos = project.data.videos

    def seconds(video_id: str, frame: int) -> float:
        return round(frame / videos[video_id].fps, 6)

    return {
        "subclips": [
            {"video": videos[s.video_id].name, "start": s.start, "end": s.end, "label": s.label, "value": s.value,
             "target": s.target, "split": s.split, "note": s.note, "start_s": seconds(s.video_id, s.start),
             "end_s": seconds(s.video_id, s.end), "video_id": s.video_id, "video_path": str(videos[s.video_id].path),
             "id": s.id}
            for s in project.data.subclips.values()
        ],
        "intervals": [
            {"video": videos[i.video_id].name, "start": i.start, "end": i.end, "start_s": seconds(i.video_id, i.start),
             "end_s": seconds(i.video_id, i.end), "source": i.source, "note": i.note, "video_id": i.video_id, "id": i.id}
            for i in project.data.intervals.values()
        ],
        "normal_spans": [
            {"video": videos[n.video_id].name, "start": n.start, "end": n.end, "start_s": seconds(n.video_id, n.start),
             "end_s": seconds(n.video_id, n.end), "note": n.note, "video_id": n.video_id, "id": n.id}
            for n in project.data.normal_spans.values()
        ],
        "verdicts": [
            {"video": videos[v.video_id].name, "start": v.start, "end": v.end, "verdict": v.verdict, "note": v.note,
             "run": v.run_id, "score": v.score, "updated": v.updated, "video_id": v.video_id, "id": v.id}
            for v in project.data.verdicts.values()
        ],
        "classes": [{"name": c.name, "color": c.color, "shortcut": c.shortcut, "description": c.description}
                    for c in project.data.classes.values()],
    }


def export_json(project, path: str | Path, overwrite: bool = False, progress: ProgressCallback | None = None,
                cancel: threading.Event | None = None) -> Path:
    """Write subclips, classes, numeric targets, intervals, normal spans and verdicts (plus a video table) to one
    JSON file."""
    path = Path(path)
    _check_targets(project, [path], overwrite)
    check_cancelled(cancel, "export")
    report(progress, 0, 1, path.name)
    rows = _rows(project)
    doc = {
        "project": project.name,
        "frames": "0-based, end exclusive",
        "videos": [{"id": v.id, "name": v.name, "path": str(v.path), "fps": v.fps, "frame_count": v.frame_count,
                    "width": v.width, "height": v.height, "split": v.split} for v in project.data.videos.values()],
        "classes": rows["classes"],
        "targets": [{"name": t.name, "minimum": t.minimum, "maximum": t.maximum, "unit": t.unit}
                    for t in project.data.targets.values()],
        "subclips": rows["subclips"],
        "intervals": rows["intervals"],
        "normal_spans": rows["normal_spans"],
        "verdicts": rows["verdicts"],
    }
    _write(path, doc)
    report(progress, 1, 1, path.name)
    return path


def _csv_text(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    return buffer.getvalue()


CSV_TABLES = (("subclips", SUBCLIP_COLUMNS), ("classes", CLASS_COLUMNS), ("intervals", INTERVAL_COLUMNS),
              ("verdicts", VERDICT_COLUMNS))


def csv_files(folder: str | Path) -> list[Path]:
    """The files :func:`export_csv` writes into ``folder``."""
    return [Path(folder) / f"{name}.csv" for name, _ in CSV_TABLES]


def export_csv(project, folder: str | Path, overwrite: bool = False, progress: ProgressCallback | None = None,
               cancel: threading.Event | None = None) -> list[Path]:
    """Write ``subclips.csv``, ``classes.csv``, ``intervals.csv`` and ``verdicts.csv`` into ``folder``.

    A cancel between files leaves the ones already written (each is whole: written atomically).
    """
    out = csv_files(folder)
    _check_targets(project, out, overwrite)
    rows = _rows(project)
    for n, (path, (name, columns)) in enumerate(zip(out, CSV_TABLES, strict=True)):
        check_cancelled(cancel, "export")
        report(progress, n, len(out), path.name)
        _write(path, _csv_text(columns, rows[name]))
    report(progress, len(out), len(out), "done")
    return out


def _check_targets(project, targets: list[Path], overwrite: bool) -> None:
    """Refuse, before anything is written, targets that are the project's own files or exist (unless ``overwrite``)."""
    from core.video.cutting import EXISTS, check_folder_writable

    refuse_own_files(project, targets)
    for path in targets:
        if path.is_dir():
            raise ProjectError("is a folder: give a file name", path)
        if path.exists() and not overwrite:
            raise ProjectError(EXISTS, path)
    for folder in sorted({p.parent for p in targets}):
        check_folder_writable(folder)


def _write(path: Path, content: str | dict[str, Any]) -> None:
    """Write ``content``, a table's text or a JSON document (strict JSON: :func:`core.atomic_write.write_json`)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            write_text(path, content)
        else:
            write_json(path, content, indent=1, ensure_ascii=False)
    except OSError as exc:
        raise ProjectError(f"cannot be written ({exc.strerror or exc})", path) from exc


def subclip_file_name(project, clip: Subclip, extension: str = ".mp4") -> Path:
    """``<split>/<label>/<video>_<start>-<end><ext>``: the class-folder layout, so an export re-imports."""
    video = project.data.videos[clip.video_id]
    label = clip.label if clip.label is not None else (f"value_{clip.value:g}" if clip.value is not None else "unlabelled")
    return (Path(clip.split or video.split or "unsplit") / safe_file_stem(label, "clip")
            / f"{safe_file_stem(video.name, 'clip')}_{clip.start:06d}-{clip.end:06d}{extension}")


def subclip_targets(
    project, out_dir: str | Path, subclip_ids: list[str] | None = None, extension: str = ".mp4"
) -> list[tuple[Subclip, Path]]:
    """Each subclip (default: all) with the file :func:`export_subclip_videos` writes it to.

    A clip whose file name another clip of this export already took (two videos with one name, or two
    clips of one span; also where only the case differs) gets its id's first eight characters added to the
    name, or its whole id (made a safe file name), or a number: one clip never overwrites another.
    """
    out_dir = Path(out_dir)
    clips = [project.data.subclips[i] for i in subclip_ids] if subclip_ids is not None else list(project.data.subclips.values())
    pairs = []
    taken: set[str] = set()
    for clip in clips:
        first = target = out_dir / subclip_file_name(project, clip, extension)
        tags = iter([clip.id[:8], clip.id, *(f"{clip.id}-{n}" for n in range(2, len(clips) + 2))])
        while str(target).casefold() in taken:  # never overwrite one clip with another
            target = first.with_name(f"{first.stem}_{safe_file_stem(next(tags), 'clip')}{first.suffix}")
        taken.add(str(target).casefold())
        pairs.append((clip, target))
    return pairs


def existing_subclip_files(
    project, out_dir: str | Path, subclip_ids: list[str] | None = None, extension: str = ".mp4"
) -> list[Path]:
    """The files an export of these subclips to ``out_dir`` would replace (what the app asks about)."""
    return [target for _, target in subclip_targets(project, out_dir, subclip_ids, extension) if target.exists()]


def export_subclip_videos(
    project,
    out_dir: str | Path,
    subclip_ids: list[str] | None = None,
    *,
    extension: str = ".mp4",
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[Path]:
    """Cut each subclip (default: all) to its own video file under ``out_dir`` (see :func:`subclip_targets`).

    Uses :func:`core.video.cutting.cut_subclip` (frame-exact, written atomically). Progress counts frames.
    Every target is checked before the first is written (:func:`core.video.cutting.check_outputs`): none
    may be a video or file of the project, and existing files are replaced only with ``overwrite``.
    Returns the written paths in subclip order.
    """
    from core.jobs import Progress
    from core.video.cutting import check_outputs, cut_subclip

    pairs = subclip_targets(project, out_dir, subclip_ids, extension)
    refuse_own_files(project, [target for _, target in pairs])
    check_outputs([], [target for _, target in pairs], overwrite)
    total = sum(c.length for c, _ in pairs)
    done = 0
    written = []
    for clip, target in pairs:
        check_cancelled(cancel, "subclip export")
        video = project.data.videos[clip.video_id]

        def forward(event: Progress, offset: int = done, length: int = clip.length, name: str = target.name) -> None:
            fraction = event.fraction if event.fraction is not None else 0.0
            report(progress, offset + fraction * length, total, name)

        cut_subclip(video.path, target, clip.start, clip.end, unit="frames",
                    fps=video.fps if video.kind == "image_sequence" else None,
                    progress=forward if progress else None, cancel=cancel, overwrite=overwrite)
        done += clip.length
        written.append(target)
        report(progress, done, total, f"wrote {target.name}")
    return written
