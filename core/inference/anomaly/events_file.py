"""``events.json``: the events a scoring run flagged, kept in its run folder for analysts to review.

::

    {"format": "framewatch.events", "version": 1,
     "threshold": {...Threshold.to_dict()...} or null,
     "flagging": {"threshold": 0.031, "min_run": 3, "merge_gap": 5, "stride": 1, "scorer": "prediction"},
     "events": [{"video_id": "...", "start": 120, "end": 168, "peak_frame": 141,
                 "peak_score": 0.052, "mean_score": 0.038}, ...]}

Frames are 0-based and ``end`` is exclusive, as in the project. Verdicts are not stored here: they live in
the project (one per event, see :class:`~core.project.entities.Verdict`) and are joined to the events on
reading with :func:`~core.inference.anomaly.events.attach_verdicts`, so a verdict changed in the project is never
contradicted by a stale copy. The file is written through :mod:`core.atomic_write`; a file of a newer
``version`` is refused rather than half understood, and so is a damaged one: neither is ever replaced
(:func:`check_replaceable`), since it may hold the only copy of events an analyst has reviewed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.atomic_write import write_json
from core.inference.anomaly.events import Event
from core.inference.anomaly.regularity import Threshold
from core.inference.errors import InferenceFileError, ScoreError
from core.json_file import read_json_object

EVENTS_FILE = "events.json"
FORMAT = "framewatch.events"
VERSION = 1


@dataclass(frozen=True)
class RunEvents:
    """What a run's ``events.json`` holds: the events, the threshold and the flagging parameters used."""

    events: list[Event]
    threshold: Threshold | None = None
    flagging: Mapping[str, Any] = field(default_factory=dict)


#: What to do with an events file that is not replaced.
KEEP_HINT = "it is not replaced: move it aside (or update Framewatch, for a newer one) and score again"


def check_replaceable(run_dir: str | Path) -> None:
    """Raise :class:`InferenceFileError` if ``<run_dir>/events.json`` exists but is damaged or from a newer
    Framewatch: writing over it would destroy what this version cannot read. Scoring calls it before any
    frame is scored, and :func:`write_events` before it writes."""
    try:
        read_events(run_dir)
    except InferenceFileError as exc:
        raise InferenceFileError(exc.path, f"{exc.problem}; {KEEP_HINT}") from exc


def write_events(run_dir: str | Path, run_events: RunEvents) -> Path:
    """Write ``<run_dir>/events.json`` (replacing the previous one atomically); returns its path.

    A previous file that is damaged or from a newer Framewatch is never replaced (:func:`check_replaceable`).
    """
    path = Path(run_dir) / EVENTS_FILE
    check_replaceable(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, {
        "format": FORMAT, "version": VERSION,
        "threshold": run_events.threshold.to_dict() if run_events.threshold is not None else None,
        "flagging": dict(run_events.flagging),
        "events": [event.to_dict() for event in run_events.events],
    })
    return path


def read_events(run_dir: str | Path) -> RunEvents | None:
    """The events of the run in ``run_dir``; ``None`` if it has flagged none yet (no ``events.json``).

    A damaged file or one from a newer Framewatch raises :class:`InferenceFileError` naming the file, the
    problem and, for an event, its position in the list.
    """
    path = Path(run_dir) / EVENTS_FILE
    try:
        data = read_json_object(path, "events file", InferenceFileError)
    except FileNotFoundError:
        return None
    if data.get("format") != FORMAT:
        raise InferenceFileError(path, "not a Framewatch events file")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InferenceFileError(path, f"damaged events file: version {version!r} is not a number")
    if version > VERSION:
        raise InferenceFileError(path, f"written by a newer Framewatch (events version {version}; this one reads "
                                       f"up to {VERSION}): update Framewatch to read it")
    events = data.get("events")
    flagging = data.get("flagging", {})
    if not isinstance(events, list) or not isinstance(flagging, dict):
        raise InferenceFileError(path, "damaged events file: 'events' must be a list and 'flagging' an object")
    try:
        threshold = Threshold.from_dict(data["threshold"]) if data.get("threshold") is not None else None
    except ScoreError as exc:
        raise InferenceFileError(path, f"damaged events file: {exc}") from exc
    parsed = []
    for number, item in enumerate(events, start=1):
        try:
            parsed.append(Event.from_dict(item))
        except ScoreError as exc:
            raise InferenceFileError(path, f"damaged events file: event {number} of {len(events)}: {exc}") from exc
    return RunEvents(parsed, threshold, flagging)

