"""project.json <-> :class:`~core.project.entities.ProjectData`, with schema versions and migrations.

The file is a JSON object (see ``docs/project-format.md``)::

    {"format": "framewatch-project", "version": 1, "saved": "...", "info": {...},
     "videos": [...], "classes": [...], "targets": [...], "subclips": [...],
     "intervals": [...], "normal_spans": [...], "verdicts": [...], "runs": [...]}

The top level is indented and each entity is one compact line, so the file stays readable and diffable
while 100,000 subclips still save in a fraction of a second. Paths are stored relative to the project
folder (``path``) with the absolute path as a fallback (``abs_path``): a project folder moved together
with its videos still finds them, and so does a project moved on its own.

Loading checks every field's type and every reference, refuses values no recording can have (a
frame rate that is not from 0.001 to 1000 fps, a frame count past :data:`MAX_FRAMES`, a range that is empty
or inverted or runs past every frame count its video records), and raises :class:`ProjectFormatError`
(or :class:`ProjectVersionError` for a file from a newer version) naming the file, the entity and the
field: it never returns a half-read project and never raises anything but a :class:`ProjectError`.

Fields this version does not know (at the top level, in ``info`` and in every entity) are kept in the
entities' ``extra`` and written back unchanged, so a file touched by a newer Framewatch loses nothing.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from core.project.entities import (
    COLLECTIONS,
    NO_EXTRA,
    SPLITS,
    VERDICTS,
    VIDEO_KINDS,
    AnomalyInterval,
    Fingerprint,
    LabelClass,
    ModelRun,
    NormalSpan,
    NumericTarget,
    ProjectData,
    ProjectInfo,
    Subclip,
    Verdict,
    Video,
)
from core.project.errors import ProjectFormatError, ProjectVersionError

FORMAT = "framewatch-project"
#: The schema version this code writes. Files with a lower version are migrated on load.
#: A collection added later (``normal_spans``) does not change it: a file without the collection reads
#: as holding none, and an older Framewatch keeps the collection as a field it does not know.
VERSION = 1

#: ``MIGRATIONS[v]`` turns a version-``v`` document (a dict) into a version ``v + 1`` one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_ENC = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), allow_nan=False)

#: Highest frame rate a video may have, frames per second (high-speed cameras reach about 1000).
MAX_FPS = 1000.0
#: Lowest frame rate a video may have: one frame every 1000 seconds (time-lapse footage is slower than
#: 1 fps; a rate near 0 would put frames at infinite times in exports and seconds-to-frames conversions).
MIN_FPS = 0.001
#: Highest frame count (and frame number) a project accepts: 2**31 - 1 frames, over two years at 30 fps.
MAX_FRAMES = 2**31 - 1

#: The fields each part of the file has in this version; any other field is kept as ``extra``.
TOP_FIELDS = frozenset({"format", "version", "saved", "info", *COLLECTIONS})
INFO_FIELDS = frozenset({"name", "description", "created"})
FIELDS: dict[str, frozenset[str]] = {
    "videos": frozenset({"id", "name", "path", "abs_path", "kind", "width", "height", "fps", "frame_count",
                         "declared_frame_count", "codec", "split", "added", "fingerprint"}),
    "classes": frozenset({"name", "color", "shortcut", "description"}),
    "targets": frozenset({"name", "minimum", "maximum", "unit"}),
    "subclips": frozenset({"id", "video", "start", "end", "label", "value", "target", "split", "note"}),
    "intervals": frozenset({"id", "video", "start", "end", "source", "note"}),
    "normal_spans": frozenset({"id", "video", "start", "end", "note"}),
    "verdicts": frozenset({"id", "video", "start", "end", "verdict", "note", "run", "score", "updated"}),
    "runs": frozenset({"id", "name", "task", "config", "metrics", "checkpoint", "status", "created"}),
}


# -- writing ---------------------------------------------------------------------------------------
def _store_path(path: Path, folder: Path) -> tuple[str, str]:
    """``(relative, absolute)`` POSIX-style text of ``path`` for the file; relative may equal absolute."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, os.path.abspath(folder))
    except ValueError:  # another drive on Windows
        relative = absolute
    return Path(relative).as_posix(), Path(absolute).as_posix()


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _json_safe(value: Any) -> Any:
    """A copy of ``value`` the JSON encoder accepts: non-finite floats become None, tuples lists."""
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _json_safe(value.item())
    return str(value)


def _with_extra(d: dict[str, Any], extra: Any) -> dict[str, Any]:
    """``d`` followed by the unknown fields ``extra`` it does not already have (known fields win)."""
    if extra:
        for key, value in extra.items():
            d.setdefault(key, value)
    return d


def _video_dict(v: Video, folder: Path) -> dict[str, Any]:
    rel, absolute = _store_path(v.path, folder)
    fp = v.fingerprint
    return _with_extra({
        "id": v.id, "name": v.name, "path": rel, "abs_path": absolute, "kind": v.kind,
        "width": v.width, "height": v.height, "fps": v.fps, "frame_count": v.frame_count,
        "declared_frame_count": v.declared_frame_count, "codec": v.codec, "split": v.split, "added": v.added,
        "fingerprint": {"size": fp.size, "mtime_ns": fp.mtime_ns, "digest": fp.digest, "count": fp.count},
    }, v.extra)


def _subclip_dict(s: Subclip) -> dict[str, Any]:
    d: dict[str, Any] = {"id": s.id, "video": s.video_id, "start": s.start, "end": s.end}
    if s.label is not None:
        d["label"] = s.label
    if s.value is not None:
        d["value"] = _finite(s.value)
    if s.target is not None:
        d["target"] = s.target
    if s.split is not None:
        d["split"] = s.split
    if s.note:
        d["note"] = s.note
    return _with_extra(d, s.extra) if s.extra else d


def _run_dict(r: ModelRun, folder: Path) -> dict[str, Any]:
    checkpoint = None if r.checkpoint is None else _store_path(r.checkpoint, folder)[0]
    return _with_extra({
        "id": r.id, "name": r.name, "task": r.task, "config": _json_safe(r.config), "metrics": _json_safe(r.metrics),
        "checkpoint": checkpoint, "status": r.status, "created": r.created,
    }, r.extra)


def to_document(data: ProjectData, folder: Path, saved: str = "") -> dict[str, Any]:
    """The JSON-ready dict of ``data`` (paths made relative to ``folder``)."""
    info = data.info
    return _with_extra({
        "format": FORMAT,
        "version": VERSION,
        "saved": saved,
        "info": _with_extra({"name": info.name, "description": info.description, "created": info.created}, info.extra),
        "videos": [_video_dict(v, folder) for v in data.videos.values()],
        "classes": [
            _with_extra({"name": c.name, "color": c.color, "shortcut": c.shortcut, "description": c.description},
                        c.extra)
            for c in data.classes.values()
        ],
        "targets": [
            _with_extra({"name": t.name, "minimum": t.minimum, "maximum": t.maximum, "unit": t.unit}, t.extra)
            for t in data.targets.values()
        ],
        "subclips": [_subclip_dict(s) for s in data.subclips.values()],
        "intervals": [
            _with_extra({"id": i.id, "video": i.video_id, "start": i.start, "end": i.end, "source": i.source,
                         "note": i.note}, i.extra)
            for i in data.intervals.values()
        ],
        "normal_spans": [
            _with_extra({"id": n.id, "video": n.video_id, "start": n.start, "end": n.end, "note": n.note}, n.extra)
            for n in data.normal_spans.values()
        ],
        "verdicts": [
            _with_extra({
                "id": v.id, "video": v.video_id, "start": v.start, "end": v.end, "verdict": v.verdict,
                "note": v.note, "run": v.run_id, "score": _finite(v.score), "updated": v.updated,
            }, v.extra)
            for v in data.verdicts.values()
        ],
        "runs": [_run_dict(r, folder) for r in data.runs.values()],
    }, data.extra)


def dumps(data: ProjectData, folder: Path, saved: str = "") -> str:
    """project.json text: an indented top level with one compact line per entity."""
    doc = to_document(data, folder, saved)
    encode = _ENC.encode
    parts = ["{\n"]
    keys = list(doc)
    for n, key in enumerate(keys):
        value = doc[key]
        comma = "," if n < len(keys) - 1 else ""
        if key in COLLECTIONS:
            if value:
                body = ",\n    ".join(map(encode, value))
                parts.append(f'  "{key}": [\n    {body}\n  ]{comma}\n')
            else:
                parts.append(f'  "{key}": []{comma}\n')
        else:
            parts.append(f'  "{key}": {encode(value)}{comma}\n')
    parts.append("}\n")
    return "".join(parts)


# -- reading ---------------------------------------------------------------------------------------
class _Reader:
    """Type-checked access to the fields of one document; errors name the file and the entity."""

    def __init__(self, source: Path | None) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> ProjectFormatError:
        return ProjectFormatError(f"{where}: {problem}" if where else problem, self.source)

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a JSON object, not {type(value).__name__}")
        return value

    def items(self, doc: dict[str, Any], key: str) -> list[Any]:
        value = doc.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, f"must be a JSON list, not {type(value).__name__}")
        return value

    def text(self, d: dict[str, Any], key: str, where: str, default: str | None = None, optional: bool = False) -> Any:
        value = d.get(key)
        if value is None and default is not None:
            return default
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(where, f"field {key!r} must be text, not {_describe(value)}")
        return value

    def integer(self, d: dict[str, Any], key: str, where: str, optional: bool = False, minimum: int | None = 0) -> Any:
        value = d.get(key)
        if value is None and optional:
            return None
        if type(value) is not int:
            raise self.fail(where, f"field {key!r} must be an integer, not {_describe(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"field {key!r} must be at least {minimum}, not {value}")
        return value

    def num(self, d: dict[str, Any], key: str, where: str, default: float | None = None, optional: bool = False) -> Any:
        value = d.get(key, default)
        if value is None and optional:
            return None
        if type(value) not in (int, float) or not math.isfinite(value):
            raise self.fail(where, f"field {key!r} must be a finite number, not {_describe(value)}")
        return float(value)

    def choice(self, d: dict[str, Any], key: str, where: str, choices: tuple[str, ...], optional: bool = False) -> Any:
        value = d.get(key)
        if value is None and optional:
            return None
        if value not in choices or not isinstance(value, str):
            raise self.fail(where, f"field {key!r} must be one of {', '.join(choices)}, not {_describe(value)}")
        return value


def _describe(value: Any) -> str:
    if value is None:
        return "missing/null"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # e.g. a name too long for the file system
        return False


def _resolve(stored: str, absolute: str | None, folder: Path) -> Path:
    """Where a stored path points now: relative to the project first, then the absolute fallback."""
    candidate = Path(stored) if os.path.isabs(stored) else folder / stored
    if _exists(candidate) or not absolute:
        return Path(os.path.normpath(candidate))
    fallback = Path(absolute)
    return fallback if _exists(fallback) else Path(os.path.normpath(candidate))


def _extra(d: dict[str, Any], known: frozenset[str]) -> Any:
    """The fields of ``d`` not in ``known``, as a read-only mapping (JSON-safe: NaN and infinities,
    which strict JSON has not, become null); :data:`NO_EXTRA` when there are none."""
    if known.issuperset(d):
        return NO_EXTRA
    return MappingProxyType({k: _json_safe(v) for k, v in d.items() if k not in known})


def _frame_limit(video: Video) -> int:
    """The frame a range of ``video`` may not run past: its highest recorded count (decoded or declared).

    Not the decoded count alone: a video added without a scan was labelled against its header's count,
    and a scan that later finds fewer frames must not make the project unreadable; such ranges load and
    :func:`core.project.validation.validate` reports them. With no count recorded, :data:`MAX_FRAMES`.
    """
    return max(video.frame_count or 0, video.declared_frame_count) or MAX_FRAMES


def _unique(r: _Reader, where: str, ident: str, seen: dict[str, Any]) -> None:
    if ident in seen:
        raise r.fail(where, f"duplicate id {ident!r}")


def _read_videos(r: _Reader, items: list[Any], folder: Path) -> dict[str, Video]:
    out: dict[str, Video] = {}
    for n, item in enumerate(items):
        where = f"videos[{n}]"
        d = r.obj(item, where)
        ident = r.text(d, "id", where)
        _unique(r, where, ident, out)
        fpd = r.obj(d.get("fingerprint"), f"{where}.fingerprint")
        fp = Fingerprint(
            size=r.integer(fpd, "size", where), mtime_ns=r.integer(fpd, "mtime_ns", where, minimum=None),
            digest=r.text(fpd, "digest", where), count=r.integer(fpd, "count", where),
        )
        stored = r.text(d, "path", where)
        if not stored or "\0" in stored:
            raise r.fail(where, "field 'path' is empty or not a valid path")
        absolute = r.text(d, "abs_path", where, optional=True)
        if absolute is not None and "\0" in absolute:
            raise r.fail(where, "field 'abs_path' is not a valid path")
        name = r.text(d, "name", where)
        where = f"{where} ({name})"
        fps = r.num(d, "fps", where)
        if not MIN_FPS <= fps <= MAX_FPS:
            raise r.fail(where, f"field 'fps' must be a frame rate from {MIN_FPS:g} to {MAX_FPS:g} frames per second, "
                                f"not {fps:g}")
        frame_count = r.integer(d, "frame_count", where, optional=True)
        declared = r.integer(d, "declared_frame_count", where)
        for key, count in (("frame_count", frame_count), ("declared_frame_count", declared)):
            if count is not None and count > MAX_FRAMES:
                raise r.fail(where, f"field {key!r} must be at most {MAX_FRAMES:,} frames, not {count:,}")
        out[ident] = Video(
            id=ident, path=_resolve(stored, absolute, folder), name=name,
            kind=r.choice(d, "kind", where, VIDEO_KINDS), width=r.integer(d, "width", where), height=r.integer(d, "height", where),
            fps=fps, frame_count=frame_count, fingerprint=fp, declared_frame_count=declared,
            codec=r.text(d, "codec", where, default=""), split=r.choice(d, "split", where, SPLITS, optional=True),
            added=r.text(d, "added", where, default=""), extra=_extra(d, FIELDS["videos"]),
        )
    return out


def _read_span(r: _Reader, d: dict[str, Any], where: str, videos: dict[str, Video]) -> tuple[str, int, int]:
    video = r.text(d, "video", where)
    if video not in videos:
        raise r.fail(where, f"refers to video {video!r}, which the project does not have")
    start, end = r.integer(d, "start", where), r.integer(d, "end", where)
    name = videos[video].name
    if end <= start:
        raise r.fail(where, f"frames [{start}, {end}) of video {name}: field 'end' ({end}) must be after field "
                     f"'start' ({start}) (ranges are [start, end), end exclusive)")
    limit = _frame_limit(videos[video])
    if end > limit:
        what = f"{limit:,} frames" if limit != MAX_FRAMES else f"the most a project accepts ({MAX_FRAMES:,})"
        raise r.fail(where, f"frames [{start}, {end}) of video {name}: field 'end' goes past the end of the video "
                     f"({what})")
    return video, start, end


class _Irregular(Exception):
    """The fast subclip reader met something it does not vouch for: the checked reader takes over."""


_SPLIT_SET = frozenset(SPLITS)


def _read_subclips(r: _Reader, items: list[Any], videos: dict[str, Video]) -> dict[str, Subclip]:
    """Subclips, by a tight loop for well-formed entries (there may be 100,000 of them).

    Anything unusual (a missing field, a wrong type, a duplicate id) sends the whole list through
    :func:`_read_subclips_checked`, which reads the same values or names the exact problem.
    """
    out: dict[str, Subclip] = {}
    isfinite = math.isfinite
    limits = {ident: _frame_limit(v) for ident, v in videos.items()}
    known = FIELDS["subclips"]
    try:
        for d in items:
            ident, video, start, end = d["id"], d["video"], d["start"], d["end"]
            get = d.get
            label, value, target, split, note = get("label"), get("value"), get("target"), get("split"), get("note", "")
            if (
                type(ident) is not str or type(start) is not int or type(end) is not int or start < 0 or end <= start
                or video not in limits or end > limits[video] or ident in out or type(note) is not str
                or (label is not None and type(label) is not str)
                or (target is not None and type(target) is not str)
                or (split is not None and split not in _SPLIT_SET)
                or (value is not None and (type(value) not in (int, float) or not isfinite(value)))
            ):
                raise _Irregular
            out[ident] = Subclip(ident, video, start, end, label, None if value is None else float(value), target,
                                 split, note, NO_EXTRA if known.issuperset(d) else _extra(d, known))
        return out
    except (_Irregular, TypeError, KeyError, AttributeError, OverflowError):
        return _read_subclips_checked(r, items, videos)


def _read_subclips_checked(r: _Reader, items: list[Any], videos: dict[str, Video]) -> dict[str, Subclip]:
    out: dict[str, Subclip] = {}
    for n, item in enumerate(items):
        where = f"subclips[{n}]"
        d = r.obj(item, where)
        ident = r.text(d, "id", where)
        _unique(r, where, ident, out)
        video, start, end = _read_span(r, d, where, videos)
        out[ident] = Subclip(
            ident, video, start, end, label=r.text(d, "label", where, optional=True),
            value=r.num(d, "value", where, optional=True), target=r.text(d, "target", where, optional=True),
            split=r.choice(d, "split", where, SPLITS, optional=True), note=r.text(d, "note", where, default=""),
            extra=_extra(d, FIELDS["subclips"]),
        )
    return out


def _read_intervals(r: _Reader, items: list[Any], videos: dict[str, Video]) -> dict[str, AnomalyInterval]:
    out: dict[str, AnomalyInterval] = {}
    for n, item in enumerate(items):
        where = f"intervals[{n}]"
        d = r.obj(item, where)
        ident = r.text(d, "id", where)
        _unique(r, where, ident, out)
        video, start, end = _read_span(r, d, where, videos)
        out[ident] = AnomalyInterval(
            ident, video, start, end, source=r.text(d, "source", where, default=""),
            note=r.text(d, "note", where, default=""), extra=_extra(d, FIELDS["intervals"]),
        )
    return out


def _read_normal_spans(r: _Reader, items: list[Any], videos: dict[str, Video]) -> dict[str, NormalSpan]:
    out: dict[str, NormalSpan] = {}
    for n, item in enumerate(items):
        where = f"normal_spans[{n}]"
        d = r.obj(item, where)
        ident = r.text(d, "id", where)
        _unique(r, where, ident, out)
        video, start, end = _read_span(r, d, where, videos)
        out[ident] = NormalSpan(ident, video, start, end, note=r.text(d, "note", where, default=""),
                                extra=_extra(d, FIELDS["normal_spans"]))
    return out


def _read_verdicts(r: _Reader, items: list[Any], videos: dict[str, Video]) -> dict[str, Verdict]:
    out: dict[str, Verdict] = {}
    for n, item in enumerate(items):
        where = f"verdicts[{n}]"
        d = r.obj(item, where)
        ident = r.text(d, "id", where)
        _unique(r, where, ident, out)
        video, start, end = _read_span(r, d, where, videos)
        out[ident] = Verdict(
            ident, video, start, end, verdict=r.choice(d, "verdict", where, VERDICTS),
            note=r.text(d, "note", where, default=""), run_id=r.text(d, "run", where, optional=True),
            score=r.num(d, "score", where, optional=True), updated=r.text(d, "updated", where, default=""),
            extra=_extra(d, FIELDS["verdicts"]),
        )
    return out


def _read_runs(r: _Reader, items: list[Any], folder: Path) -> dict[str, ModelRun]:
    out: dict[str, ModelRun] = {}
    for n, item in enumerate(items):
        where = f"runs[{n}]"
        d = r.obj(item, where)
        ident = r.text(d, "id", where)
        _unique(r, where, ident, out)
        checkpoint = r.text(d, "checkpoint", where, optional=True)
        if checkpoint is not None and "\0" in checkpoint:
            raise r.fail(where, "field 'checkpoint' is not a valid path")
        out[ident] = ModelRun(
            ident, name=r.text(d, "name", where), task=r.text(d, "task", where),
            config=r.obj(d.get("config", {}), f"{where}.config"), metrics=r.obj(d.get("metrics", {}), f"{where}.metrics"),
            checkpoint=None if not checkpoint else _resolve(checkpoint, None, folder),
            status=r.text(d, "status", where, default=""), created=r.text(d, "created", where, default=""),
            extra=_extra(d, FIELDS["runs"]),
        )
    return out


def migrate(doc: dict[str, Any], source: Path | None = None) -> dict[str, Any]:
    """Bring a document of any known version up to :data:`VERSION`."""
    r = _Reader(source)
    if doc.get("format") != FORMAT:
        raise r.fail("", f"not a Framewatch project file (field 'format' is {_describe(doc.get('format'))})")
    version = doc.get("version")
    if type(version) is not int or version < 0:
        raise r.fail("", f"field 'version' must be a non-negative integer, not {_describe(version)}")
    if version > VERSION:
        raise ProjectVersionError(
            f"written by a newer Framewatch (project format version {version}; this version reads up to {VERSION}). "
            "Update Framewatch to open it; the file is left untouched",
            source,
        )
    while version < VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise r.fail("", f"no migration from project format version {version}")
        doc = step(doc)
        version += 1
        doc["version"] = version
    return doc


def from_document(doc: Any, folder: Path, source: Path | None = None) -> ProjectData:
    """Read a parsed project document (any known version) into :class:`ProjectData`."""
    r = _Reader(source)
    try:
        doc = migrate(r.obj(doc, "top level"), source)
        info = r.obj(doc.get("info", {}), "info")
        data = ProjectData(
            ProjectInfo(
                name=r.text(info, "name", "info"), description=r.text(info, "description", "info", default=""),
                created=r.text(info, "created", "info", default=""), extra=_extra(info, INFO_FIELDS),
            ),
            extra=dict(_extra(doc, TOP_FIELDS)),
        )
        data.videos = _read_videos(r, r.items(doc, "videos"), folder)
        for n, item in enumerate(r.items(doc, "classes")):
            where = f"classes[{n}]"
            d = r.obj(item, where)
            c = LabelClass(
                r.text(d, "name", where), color=r.text(d, "color", where, default="#808080"),
                shortcut=r.text(d, "shortcut", where, default=""), description=r.text(d, "description", where, default=""),
                extra=_extra(d, FIELDS["classes"]),
            )
            _unique(r, where, c.name, data.classes)
            data.classes[c.name] = c
        for n, item in enumerate(r.items(doc, "targets")):
            where = f"targets[{n}]"
            d = r.obj(item, where)
            t = NumericTarget(
                r.text(d, "name", where), minimum=r.num(d, "minimum", where, default=0.0),
                maximum=r.num(d, "maximum", where, default=1.0), unit=r.text(d, "unit", where, default=""),
                extra=_extra(d, FIELDS["targets"]),
            )
            _unique(r, where, t.name, data.targets)
            data.targets[t.name] = t
        data.subclips = _read_subclips(r, r.items(doc, "subclips"), data.videos)
        data.intervals = _read_intervals(r, r.items(doc, "intervals"), data.videos)
        data.normal_spans = _read_normal_spans(r, r.items(doc, "normal_spans"), data.videos)  # none in older files
        data.verdicts = _read_verdicts(r, r.items(doc, "verdicts"), data.videos)
        data.runs = _read_runs(r, r.items(doc, "runs"), folder)
        return data
    except ProjectFormatError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError, OverflowError) as exc:  # defensive
        raise ProjectFormatError(f"does not follow the project schema ({type(exc).__name__}: {exc})", source) from exc


def loads(text: str | bytes, folder: Path, source: Path | None = None) -> ProjectData:
    """Parse project.json text; raises :class:`ProjectFormatError` for anything unreadable."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        doc = json.loads(text)
    except UnicodeDecodeError as exc:
        raise ProjectFormatError(f"not UTF-8 text (byte {exc.start}): the file is corrupt", source) from exc
    except json.JSONDecodeError as exc:
        ends_early = exc.pos >= len(text.rstrip()) or not text.rstrip().endswith("}")
        hint = " (the file ends early: it is truncated)" if ends_early else ""
        raise ProjectFormatError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}){hint}", source
        ) from exc
    except (RecursionError, ValueError) as exc:
        raise ProjectFormatError(f"not valid JSON ({type(exc).__name__}: {exc})", source) from exc
    return from_document(doc, folder, source)
