"""Checks of a project's consistency, with messages an analyst can act on.

Two kinds of check:

* **edit-time** checks (``check_*``) raise :class:`ProjectValidationError` before a bad edit is made:
  an inverted or out-of-range interval, a label that is not in the schema, a value outside its
  target's range, an unknown split;
* :func:`validate` reviews a whole project (e.g. on open) and returns :class:`Issue` records: videos that
  moved (relink them with :meth:`Project.relink_video` / :func:`find_moved_videos`) or changed, duplicate
  videos, intervals outside their video, labels not in the schema, videos feeding two splits, normal spans
  that overlap abnormal footage.
"""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import VideoError, VideoNotFoundError
from core.project.entities import SPLITS, VERDICTS, NormalSpan, ProjectData, Video
from core.project.errors import ProjectValidationError
from core.project.fingerprint import fingerprint


@dataclass(frozen=True)
class Issue:
    """One problem found by :func:`validate`.

    ``severity`` is ``"error"`` (datasets cannot use the entity as is) or ``"warning"``; ``kind`` a stable
    tag (``missing_video``, ``changed_video``, ``unreadable_video``, ``duplicate_video``, ``inverted_interval``,
    ``out_of_range``, ``unknown_label``, ``unknown_target``, ``value_out_of_range``, ``split_leak``,
    ``normal_overlaps_anomaly``);
    ``ids`` the entities concerned.
    """

    severity: str
    kind: str
    message: str
    ids: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def check_span(video: Video, start: int, end: int, what: str = "subclip") -> None:
    """Frames ``[start, end)`` must be a non-empty range inside ``video`` (0-based, end exclusive)."""
    if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) or not isinstance(end, int):
        raise ProjectValidationError(f"{what} of {video.name}: start and end must be whole frame numbers")
    if start < 0:
        raise ProjectValidationError(f"{what} of {video.name}: start frame {start} is negative")
    if end <= start:
        raise ProjectValidationError(
            f"{what} of {video.name}: end frame {end} is not after start frame {start} (frames are [start, end))"
        )
    count = video.known_frame_count
    if count and end > count:
        raise ProjectValidationError(
            f"{what} of {video.name}: frames [{start}, {end}) go past the end of the video ({count} frames, 0..{count - 1})"
        )


def check_split(split: str | None) -> None:
    if split is not None and split not in SPLITS:
        raise ProjectValidationError(f"split must be one of {', '.join(SPLITS)} (or none), not {split!r}")


def check_verdict(verdict: str) -> None:
    if verdict not in VERDICTS:
        raise ProjectValidationError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")


def check_label(data: ProjectData, label: str | None, value: float | None, target: str | None) -> None:
    """``label`` must be a class of the schema; ``value`` must lie in its target's range."""
    if label is not None and label not in data.classes:
        known = ", ".join(data.classes) or "none yet"
        raise ProjectValidationError(f"label {label!r} is not in the label schema (classes: {known})")
    if value is None:
        if target is not None:
            raise ProjectValidationError(f"target {target!r} given without a value")
        return
    if target is None:
        if len(data.targets) != 1:
            raise ProjectValidationError(
                "a value needs a numeric target: name one (targets: " + (", ".join(data.targets) or "none yet") + ")"
            )
        target = next(iter(data.targets))
    spec = data.targets.get(target)
    if spec is None:
        raise ProjectValidationError(
            f"numeric target {target!r} is not in the label schema (targets: {', '.join(data.targets) or 'none yet'})"
        )
    if not spec.minimum <= value <= spec.maximum:
        raise ProjectValidationError(f"value {value:g} of {target!r} is outside its range [{spec.minimum:g}, {spec.maximum:g}]")


def _path_problem(path: Path) -> str:
    """What is wrong with a video path :func:`video_file_status` found unreadable, naming the path."""
    from core.video.video_path import video_path_kind

    try:
        video_path_kind(path)
    except VideoError as exc:
        return str(exc)
    return f"{path}: cannot be read"


def video_file_status(video: Video) -> str:
    """``"ok"``, ``"missing"``, ``"changed"`` or ``"unreadable"`` (the path now holds no file or folder
    that can be read: a named pipe, a device, a symbolic link loop; never opened, since a named pipe
    would block): whether the video is still where, and what, it was."""
    from core.video.video_path import video_path_kind  # not at import: core.video loads OpenCV

    path = video.path
    try:
        kind = video_path_kind(path)
    except VideoNotFoundError:
        return "missing"
    except VideoError:
        return "unreadable"
    try:
        st = path.stat()
    except OSError:
        return "missing"
    fp = video.fingerprint
    if kind == "file" and st.st_size == fp.size and st.st_mtime_ns == fp.mtime_ns:
        return "ok"  # unchanged since fingerprinted: no need to read it
    try:
        now = fingerprint(path)
    except VideoError:
        return "unreadable"
    except OSError:
        return "missing"
    return "ok" if now.same_content(fp) else "changed"


def validate(data: ProjectData, check_files: bool = True) -> list[Issue]:
    """Every problem of ``data`` as :class:`Issue` records (empty list: all is well)."""
    issues: list[Issue] = []
    videos = data.videos
    if check_files:
        for v in videos.values():
            status = video_file_status(v)
            if status == "missing":
                issues.append(Issue("error", "missing_video", f"video {v.name} is missing: {v.path} does not exist "
                                    "(moved? relink it)", (v.id,)))
            elif status == "unreadable":
                issues.append(Issue("error", "unreadable_video", f"video {v.name} cannot be read: "
                                    f"{_path_problem(v.path)} (relink it)", (v.id,)))
            elif status == "changed":
                issues.append(Issue("error", "changed_video", f"video {v.name} changed since it was added ({v.path}): "
                                    "its labels may no longer match its frames", (v.id,)))
    by_path: dict[str, list[Video]] = defaultdict(list)
    by_content: dict[tuple[int, str, int], list[Video]] = defaultdict(list)
    for v in videos.values():
        by_path[os.path.normcase(os.path.abspath(v.path))].append(v)
        by_content[(v.fingerprint.size, v.fingerprint.digest, v.fingerprint.count)].append(v)
    for group in by_path.values():
        if len(group) > 1:
            issues.append(Issue("warning", "duplicate_video", f"{len(group)} videos share the path {group[0].path}: "
                                + ", ".join(v.name for v in group), tuple(v.id for v in group)))
    for group in by_content.values():
        paths = {str(v.path) for v in group}
        if len(group) > 1 and len(paths) > 1:
            issues.append(Issue("warning", "duplicate_video", "videos with the same content: "
                                + ", ".join(f"{v.name} ({v.path})" for v in group), tuple(v.id for v in group)))
    spans: Iterable = [("subclip", s) for s in data.subclips.values()]
    spans = [*spans, *(("interval", i) for i in data.intervals.values()),
             *(("normal span", n) for n in data.normal_spans.values()), *(("verdict", e) for e in data.verdicts.values())]
    past_end: dict[str, list[tuple[str, object]]] = defaultdict(list)
    for what, item in spans:
        video = videos[item.video_id]
        if item.end <= item.start:
            issues.append(Issue("error", "inverted_interval", f"{what} {item.id} of {video.name}: end frame {item.end} "
                                f"is not after start frame {item.start}", (item.id,)))
        elif video.known_frame_count and item.end > video.known_frame_count:
            past_end[video.id].append((what, item))
    for video_id, items in past_end.items():
        issues.append(_past_end_issue(videos[video_id], items))
    unknown: dict[str, list[str]] = defaultdict(list)
    for s in data.subclips.values():
        if s.label is not None and s.label not in data.classes:
            unknown[s.label].append(s.id)
        if s.value is not None:
            target = s.target if s.target is not None else (next(iter(data.targets)) if len(data.targets) == 1 else None)
            spec = data.targets.get(target) if target is not None else None
            if spec is None:
                issues.append(Issue("error", "unknown_target", f"subclip {s.id}: value {s.value:g} has no numeric "
                                    f"target in the schema ({s.target!r})", (s.id,)))
            elif not spec.minimum <= s.value <= spec.maximum:
                issues.append(Issue("warning", "value_out_of_range", f"subclip {s.id}: value {s.value:g} is outside "
                                    f"{spec.name}'s range [{spec.minimum:g}, {spec.maximum:g}]", (s.id,)))
    for label, ids in unknown.items():
        issues.append(Issue("error", "unknown_label", f"{len(ids)} subclip(s) have label {label!r}, which is not in "
                            "the label schema (add the class or relabel them)", tuple(ids)))
    splits: dict[str, set[str]] = defaultdict(set)
    for s in data.subclips.values():
        split = s.split or videos[s.video_id].split
        if split is not None:
            splits[s.video_id].add(split)
    for video_id, used in splits.items():
        if len(used) > 1:
            issues.append(Issue("warning", "split_leak", f"video {videos[video_id].name} has subclips in "
                                f"{' and '.join(sorted(used))}: the same footage would feed more than one split",
                                (video_id,)))
    for span in data.normal_spans.values():
        conflicts = normal_span_conflicts(data, span)
        if conflicts:
            issues.append(Issue("warning", "normal_overlaps_anomaly", f"normal span {span.id} [{span.start}, "
                                f"{span.end}) of {videos[span.video_id].name} overlaps {'; '.join(conflicts)}: "
                                "training leaves those frames out", (span.id,)))
    return issues


def normal_span_conflicts(data: ProjectData, span: NormalSpan) -> list[str]:
    """The abnormal footage a normal span overlaps, described: anomaly intervals and confirmed events
    (verdicts ``"confirmed"``) of its video whose frames meet ``[span.start, span.end)``."""
    found = [f"anomaly interval [{i.start}, {i.end})" for i in data.intervals.values()
             if i.video_id == span.video_id and i.start < span.end and span.start < i.end]
    found += [f"confirmed event [{v.start}, {v.end})" for v in data.verdicts.values()
              if v.video_id == span.video_id and v.verdict == "confirmed" and v.start < span.end and span.start < v.end]
    return found


def _past_end_issue(video: Video, items: list[tuple[str, Any]]) -> Issue:
    """One issue for every range of ``video`` that runs past its frames.

    Such ranges can load when the count that checked them was the header's and a scan learned later that
    fewer frames decode (or a video was relinked to a shorter one): the message says which count is which.
    """
    count = video.known_frame_count
    if video.frame_count is not None and video.declared_frame_count > video.frame_count:
        limit = f"the {count} frames that decode (the header declares {video.declared_frame_count})"
    else:
        limit = f"the end of the video ({count} frames)"
    shown = ", ".join(f"{what} {item.id} [{item.start}, {item.end})" for what, item in items[:5])
    more = f" and {len(items) - 5} more" if len(items) > 5 else ""
    return Issue("error", "out_of_range", f"video {video.name}: {len(items)} labelled range(s) go past {limit}: "
                 f"{shown}{more}; shorten or remove them", tuple(item.id for _, item in items))


def find_moved_videos(data: ProjectData, search_folder: str | Path) -> dict[str, Path]:
    """For each missing video, a file or folder under ``search_folder`` with the same content.

    Candidates are files or folders of the same name, and files of the same size (a video renamed as it
    was moved); each is checked by content fingerprint. Returns ``{video_id: new_path}``.
    """
    missing = {v.id: v for v in data.videos.values() if not v.path.exists()}
    if not missing:
        return {}
    by_name: dict[str, list[Video]] = defaultdict(list)
    by_size: dict[int, list[Video]] = defaultdict(list)
    for v in missing.values():
        by_name[v.path.name].append(v)
        if v.kind == "file":
            by_size[v.fingerprint.size].append(v)
    found: dict[str, Path] = {}
    for root, dirs, files in os.walk(search_folder):
        for name in [*files, *dirs]:
            candidate = Path(root) / name
            candidates = list(by_name.get(name, []))
            if name in files and by_size:
                with contextlib.suppress(OSError):
                    candidates += by_size.get(candidate.stat().st_size, [])
            for v in candidates:
                if v.id in found:
                    continue
                try:
                    if fingerprint(candidate).same_content(v.fingerprint):
                        found[v.id] = candidate
                        break
                except OSError:
                    continue
    return found
