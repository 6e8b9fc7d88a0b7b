"""The entities of a project, as immutable dataclasses.

Conventions used everywhere in ``core.project`` and ``core.data``:

* Frames are **0-based** and intervals are **half-open**: ``start`` is the first frame in the
  interval, ``end`` the first frame after it (``end`` exclusive). ``end - start`` frames are covered.
  Importers convert other conventions (UCSD's 1-based inclusive ranges) explicitly.
* Every entity has a stable string ``id``. Videos, subclips, intervals, normal spans, verdicts and runs get a random
  16-hex-digit id (:func:`new_id`); label classes and numeric targets are identified by their name.
* Entities are frozen: an edit replaces the object, which is what makes undo exact and cheap.
  Use :func:`dataclasses.replace` to derive an edited copy (it keeps the entity's ``extra`` fields:
  fields of the file this version does not know, written back unchanged).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

SPLITS = ("train", "val", "test")
VERDICTS = ("confirmed", "rejected", "unsure")
VIDEO_KINDS = ("file", "image_sequence")
#: The fields of an entity that this version does not know: none.
NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


def _extra() -> Any:
    """The ``extra`` field every entity has: fields of the project file this version does not know.

    A newer Framewatch (or another tool) may add fields to an entity; they are kept here, read-only, and
    written back unchanged on save, so opening a project with an older version never drops them. They
    take part in equality but not in hashing.
    """
    return field(default_factory=lambda: NO_EXTRA, hash=False, repr=False)


def new_id() -> str:
    """A random 16-hex-digit id (64 bits: collisions are negligible for millions of entities)."""
    return uuid.uuid4().hex[:16]


def now_iso() -> str:
    """The current UTC time as ISO 8601 text, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What identifies a video's content cheaply (see :mod:`core.project.fingerprint`).

    ``size`` is bytes (for a folder, the sum over its images); ``mtime_ns`` the modification time;
    ``count`` the number of images of a folder (0 for a file); ``digest`` a BLAKE2 hash of the first and
    last MiB of a file (for a folder: of its names, sizes and a few of its images).
    """

    size: int
    mtime_ns: int
    digest: str
    count: int = 0

    @property
    def key(self) -> str:
        """A content key, independent of the modification time: used to name cache files."""
        return f"{self.digest[:16]}{self.size:x}"

    def same_content(self, other: Fingerprint) -> bool:
        """True when ``other`` describes the same bytes (a copied or moved file matches)."""
        return (self.size, self.digest, self.count) == (other.size, other.digest, other.count)


@dataclass(frozen=True, slots=True)
class Video:
    """A video file or an image-sequence folder in the project.

    ``path`` is absolute in memory; the project file stores it relative to the project folder (and
    absolute as a fallback). ``frame_count`` is the number of frames that decode (learned by a scan
    when the video was added), ``None`` if the video was added without a scan. ``fps`` is frames per
    second, sizes are pixels. ``split`` assigns every subclip of the video to a split (``None``: the
    dataset builder assigns the video to train or val automatically).
    """

    id: str
    path: Path
    name: str
    kind: str
    width: int
    height: int
    fps: float
    frame_count: int | None
    fingerprint: Fingerprint
    declared_frame_count: int = 0
    codec: str = ""
    split: str | None = None
    added: str = ""
    extra: Mapping[str, Any] = _extra()

    @property
    def known_frame_count(self) -> int:
        """``frame_count`` when known, else what the header declares."""
        return self.frame_count if self.frame_count is not None else self.declared_frame_count


@dataclass(frozen=True, slots=True)
class LabelClass:
    """A class of the label schema: ``color`` is ``#rrggbb``; ``shortcut`` one key (or ``""``)."""

    name: str
    color: str = "#808080"
    shortcut: str = ""
    description: str = ""
    extra: Mapping[str, Any] = _extra()

    @property
    def id(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class NumericTarget:
    """A numeric label (e.g. a rating) with its allowed range ``[minimum, maximum]`` (inclusive)."""

    name: str
    minimum: float = 0.0
    maximum: float = 1.0
    unit: str = ""
    extra: Mapping[str, Any] = _extra()

    @property
    def id(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Subclip:
    """Frames ``[start, end)`` of a video with a class label, or a numeric value of a target, or both.

    ``split`` is ``"train"``, ``"val"``, ``"test"`` or ``None`` (inherit from the video, else automatic).
    """

    id: str
    video_id: str
    start: int
    end: int
    label: str | None = None
    value: float | None = None
    target: str | None = None
    split: str | None = None
    note: str = ""
    extra: Mapping[str, Any] = _extra()

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class AnomalyInterval:
    """Ground truth: frames ``[start, end)`` of a video are abnormal. ``source`` says where it came from."""

    id: str
    video_id: str
    start: int
    end: int
    source: str = ""
    note: str = ""
    extra: Mapping[str, Any] = _extra()


@dataclass(frozen=True, slots=True)
class NormalSpan:
    """Frames ``[start, end)`` of a video are normal footage an anomaly run learns from.

    A video with normal spans trains on exactly those frames (less any abnormal ones); the rest of it is
    scored like test footage. "Train on the first hour, score the rest" is one span ``[0, 3600 * fps)``.
    """

    id: str
    video_id: str
    start: int
    end: int
    note: str = ""
    extra: Mapping[str, Any] = _extra()


@dataclass(frozen=True, slots=True)
class Verdict:
    """An analyst's verdict on a flagged event: frames ``[start, end)`` of a video, flagged by a run.

    ``verdict`` is ``"confirmed"``, ``"rejected"`` or ``"unsure"``; ``run_id`` the model run that
    flagged the event (``None`` if unknown). One verdict per (run, video, start, end).
    """

    id: str
    video_id: str
    start: int
    end: int
    verdict: str
    note: str = ""
    run_id: str | None = None
    score: float | None = None
    updated: str = ""
    extra: Mapping[str, Any] = _extra()

    @property
    def event_key(self) -> tuple[str | None, str, int, int]:
        return (self.run_id, self.video_id, self.start, self.end)


@dataclass(frozen=True, slots=True)
class ModelRun:
    """A training run: its config and metrics (JSON-ready dicts) and its checkpoint.

    ``checkpoint`` is absolute in memory and stored relative to the project (usually under ``models/``).
    ``status`` is free text such as ``"running"``, ``"finished"``, ``"cancelled"``, ``"failed"``.
    """

    id: str
    name: str
    task: str
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    checkpoint: Path | None = None
    status: str = ""
    created: str = ""
    extra: Mapping[str, Any] = _extra()

    def __hash__(self) -> int:  # dict fields: hash by id (entities are compared by value)
        return hash(self.id)


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    """Project-level fields: ``name``, free ``description``, creation time."""

    name: str
    description: str = ""
    created: str = ""
    extra: Mapping[str, Any] = _extra()


#: The entity collections of a project, in file order, with the type each holds.
COLLECTIONS: dict[str, type] = {
    "videos": Video,
    "classes": LabelClass,
    "targets": NumericTarget,
    "subclips": Subclip,
    "intervals": AnomalyInterval,
    "normal_spans": NormalSpan,
    "verdicts": Verdict,
    "runs": ModelRun,
}


@dataclass
class ProjectData:
    """Everything a project holds: ``info`` plus one ordered ``{id: entity}`` dict per collection."""

    info: ProjectInfo
    videos: dict[str, Video] = field(default_factory=dict)
    classes: dict[str, LabelClass] = field(default_factory=dict)
    targets: dict[str, NumericTarget] = field(default_factory=dict)
    subclips: dict[str, Subclip] = field(default_factory=dict)
    intervals: dict[str, AnomalyInterval] = field(default_factory=dict)
    normal_spans: dict[str, NormalSpan] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    runs: dict[str, ModelRun] = field(default_factory=dict)
    #: Top-level fields of the file this version does not know (kept and written back unchanged).
    extra: dict[str, Any] = field(default_factory=dict)

    def collection(self, name: str) -> dict[str, Any]:
        if name not in COLLECTIONS:
            raise KeyError(f"no collection {name!r}")
        return getattr(self, name)

    def copy(self) -> ProjectData:
        """A shallow copy: new dicts holding the same (immutable) entities."""
        return ProjectData(self.info, **{name: dict(getattr(self, name)) for name in COLLECTIONS}, extra=self.extra)

    def same_as(self, other: ProjectData) -> bool:
        """Equal content, ignoring the order of entities."""
        return (self.info == other.info and self.extra == other.extra
                and all(getattr(self, n) == getattr(other, n) for n in COLLECTIONS))
