"""Score and event exports of a scored video: a per-frame CSV, an events CSV and one JSON with both.

For each scored video three files go to an export folder, named after the video (``<stem>``: its name
without the extension, made one safe file name: ``training/01`` becomes ``training_01``; two videos of one
export whose stems would name one file, also where only the case differs, get ``<stem>-<video id>``):

* ``<stem>.scores.csv``: one row per frame, the columns of :data:`FRAME_COLUMNS`: ``frame`` (0-based),
  ``time_s`` (when the frame starts to show, seconds after the first frame: the video's real timestamps
  where they are uneven, else ``frame / fps``), ``error`` e(t), ``abnormality`` sa(t), ``regularity``
  sr(t), ``smoothed_error`` (the error smoothed as the threshold was calibrated, the series flagged),
  ``flagged`` (1 when the smoothed error is above the threshold), ``backfilled`` (1 for the first frames of
  a prediction model, which carry the first predicted frame's error) and ``event_id`` (the event covering
  the frame, empty if none). An event can cover unflagged frames (a merged gap), and a flagged frame can
  be in no event (a run shorter than the minimum run).
* ``<stem>.events.csv``: one row per event, the columns of :data:`EVENT_COLUMNS`: ids numbered 1, 2, ...
  in frame order, frames ``[start_frame, end_frame)`` (end exclusive) and their times (``end_s`` is when
  frame ``end_frame`` starts, the end of the event), ``length`` in frames, the peak frame, its time and
  score, the mean score, and the analyst's ``verdict`` (``confirmed``, ``rejected``, ``unsure``, empty if
  none; ``verdict_exact`` 1 when recorded on exactly this event, 0 when carried over from an overlapping
  one) and its ``note``.
* ``<stem>.scores.json``: ``{"format": "framewatch.scores-export", "version": 1, "run", "model" (the
  model file's fingerprint), "video": {"id", "name", "path", "fps", "frames"}, "threshold" (as the run
  calibrated it), "smoothing": {"window", "mode"}, "flagging", "frames": [one object per frame, the CSV's
  columns], "events": [one object per event, the CSV's columns]}``.

Every file is written atomically (:mod:`core.atomic_write`); an existing one is refused unless ``overwrite``
(all are checked before the first is written).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.atomic_write import write_json, write_text
from core.evaluation.normalise import abnormality
from core.evaluation.threshold import above_threshold
from core.file_names import safe_file_stem, unique_stems
from core.inference.anomaly.events import Event
from core.inference.anomaly.regularity import Threshold
from core.video.cutting import check_outputs
from core.video.open import open_video

FORMAT = "framewatch.scores-export"
VERSION = 1
FRAME_COLUMNS = ("frame", "time_s", "error", "abnormality", "regularity", "smoothed_error", "flagged",
                 "backfilled", "event_id")
EVENT_COLUMNS = ("event_id", "start_frame", "end_frame", "start_s", "end_s", "length", "peak_frame", "peak_s",
                 "peak_score", "mean_score", "verdict", "verdict_exact", "note")
#: What each export file of a video is called after its stem.
SUFFIXES = {"scores_csv": ".scores.csv", "events_csv": ".events.csv", "json": ".scores.json"}


@dataclass(frozen=True)
class ScoredVideo:
    """One video scored by a run: what its exports and its annotated video show.

    ``errors`` float32 ``(frames,)``; ``events`` flagged on them, in frame order, verdicts attached;
    ``threshold`` the run's; ``model`` the model file's fingerprint; ``backfilled`` how many frames at the
    start carry the first predicted frame's error (prediction models).
    """

    video_id: str
    name: str
    path: Path
    kind: str
    fps: float
    errors: np.ndarray
    threshold: Threshold
    events: list[Event]
    run_id: str
    model: str
    flagging: Mapping[str, Any] = field(default_factory=dict)
    backfilled: int = 0

    @property
    def frames(self) -> int:
        return int(self.errors.shape[0])

    @property
    def stem(self) -> str:
        """What its export files are named after (:func:`file_stem`)."""
        return file_stem(self.name, self.kind)


def scored_videos(project: Any, result: Any) -> list[ScoredVideo]:
    """The videos of a :class:`~core.inference.anomaly.project_scoring.ProjectScores` of ``project``, ready to export."""
    from core.inference.anomaly.project_scoring import project_run_id

    run = result.run
    fingerprint = run.model_key()
    run_id = project_run_id(project, run)
    videos = []
    for scores in result.videos:
        video = project.video(scores.video_id)
        videos.append(ScoredVideo(video.id, video.name, video.path, video.kind, video.fps, scores.errors,
                                  result.threshold, scores.events, run_id, fingerprint, dict(result.flagging),
                                  min(run.spec.backfilled_frames, scores.frames)))
    return videos


def scored_video(project: Any, run: Any, video_id: str, errors: np.ndarray, threshold: Threshold,
                 events: Iterable[Event], min_run: int = 1, merge_gap: int = 0) -> ScoredVideo:
    """One video of ``project`` scored by ``run`` (a :class:`~core.inference.anomaly.project_scoring.ScoringRun`),
    ready to export as flagged now: ``errors`` from the score cache, ``threshold``, ``events`` and the
    flagging an analyst set (the app's chart); the project's verdicts are attached to the events."""
    from core.inference.anomaly.events import attach_verdicts
    from core.inference.anomaly.project_scoring import project_run_id
    from core.inference.anomaly.scoring import resolve_stride

    video = project.video(video_id)
    run_id = project_run_id(project, run)
    errors = np.asarray(errors, np.float32)
    flagging = {"threshold": threshold.value, "min_run": int(min_run), "merge_gap": int(merge_gap),
                "stride": resolve_stride(run.spec, None)}
    return ScoredVideo(video.id, video.name, video.path, video.kind, video.fps, errors, threshold,
                       attach_verdicts(events, project.verdicts.values(), run_id), run_id,
                       run.model_key(), flagging,
                       min(run.spec.backfilled_frames, int(errors.shape[0])))


def file_stem(name: str, kind: str) -> str:
    """What a video's export files are named after: its name, without the extension for a file, made safe as
    one file name (:func:`~core.file_names.safe_file_stem`): ``training/01`` (a UCSD import) -> ``training_01``."""
    return safe_file_stem(os.path.splitext(name)[0] if kind == "file" else name, "video")


def unique_file_stems(videos: Iterable[Any]) -> dict[str, str]:
    """The stem of each of ``videos`` (project videos, by id) in one export: :func:`file_stem`, with
    ``-<video id>`` added where two stems would name one file (:func:`~core.file_names.unique_stems`)."""
    videos = list(videos)
    return unique_stems({video.id: file_stem(video.name, video.kind) for video in videos},
                        {video.id: video.id for video in videos})


def video_times(video: ScoredVideo) -> np.ndarray:
    """When frames ``0 .. frames`` start to show, float64 seconds ``(frames + 1,)``: the last is the video's end."""
    with open_video(video.path, fps=video.fps) as source:
        return source.times_of_frames(np.arange(video.frames + 1))


@dataclass(frozen=True)
class FrameTable:
    """The per-frame columns of a scored video, arrays of ``(frames,)``; ``times`` has one more value, the end.

    ``event_id`` is 0 for a frame in no event, else the 1-based number of its event in frame order.
    """

    times: np.ndarray
    error: np.ndarray
    abnormality: np.ndarray
    smoothed: np.ndarray
    flagged: np.ndarray
    backfilled: np.ndarray
    event_id: np.ndarray

    @property
    def frames(self) -> int:
        return int(self.error.shape[0])

    @property
    def regularity(self) -> np.ndarray:
        return (1.0 - self.abnormality).astype(np.float32)


def frame_table(video: ScoredVideo, times: np.ndarray) -> FrameTable:
    """The per-frame columns of ``video``; ``times`` from :func:`video_times`."""
    n = video.frames
    smoothed = video.threshold.smooth(video.errors)
    event_id = np.zeros(n, np.int64)
    for number, event in enumerate(video.events, start=1):
        event_id[event.start:event.end] = number
    backfilled = np.zeros(n, bool)
    backfilled[:video.backfilled] = True
    return FrameTable(np.asarray(times, np.float64), np.asarray(video.errors, np.float32),
                      abnormality(video.errors).astype(np.float32), smoothed, above_threshold(smoothed, video.threshold.value), backfilled,
                      event_id)


def frame_rows(table: FrameTable) -> Iterable[dict[str, Any]]:
    """One dict per frame, keyed by :data:`FRAME_COLUMNS` (``event_id`` ``None`` for a frame in no event)."""
    error, sa, sr = (_shortest(column) for column in (table.error, table.abnormality, table.regularity))
    for t in range(table.frames):
        yield {"frame": t, "time_s": float(table.times[t]), "error": error[t], "abnormality": sa[t], "regularity": sr[t],
               "smoothed_error": float(table.smoothed[t]), "flagged": bool(table.flagged[t]),
               "backfilled": bool(table.backfilled[t]),
               "event_id": int(table.event_id[t]) if table.event_id[t] else None}


def event_rows(video: ScoredVideo, times: np.ndarray) -> list[dict[str, Any]]:
    """One dict per event of ``video``, keyed by :data:`EVENT_COLUMNS` (``verdict`` ``None`` when none)."""
    rows = []
    for number, event in enumerate(video.events, start=1):
        verdict = event.verdict
        rows.append({"event_id": number, "start_frame": event.start, "end_frame": event.end,
                     "start_s": float(times[event.start]), "end_s": float(times[event.end]),
                     "length": event.length, "peak_frame": event.peak_frame, "peak_s": float(times[event.peak_frame]),
                     "peak_score": event.peak_score, "mean_score": event.mean_score,
                     "verdict": verdict.verdict if verdict else None,
                     "verdict_exact": event.verdict_is_exact if verdict else None,
                     "note": verdict.note if verdict else None})
    return rows


def _shortest(values: np.ndarray) -> list[float]:
    """float32 ``values`` as the shortest decimals that read back to them (0.37640733, not 0.37640732526779175)."""
    return np.asarray(values, np.float32).astype(str).astype(np.float64).tolist()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back to the same float
    return value


def _csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row[name]) for name in columns])
    return buffer.getvalue()


def export_paths(folder: str | Path, stem: str) -> dict[str, Path]:
    """The export files of a video with file stem ``stem`` in ``folder``, keyed as :data:`SUFFIXES`."""
    return {key: Path(folder) / f"{stem}{suffix}" for key, suffix in SUFFIXES.items()}


def write_score_exports(folder: str | Path, video: ScoredVideo, stem: str | None = None,
                        overwrite: bool = False, times: np.ndarray | None = None) -> dict[str, Path]:
    """Write ``video``'s three export files into ``folder`` (created if need be); returns their paths.

    ``stem`` names them (default :attr:`ScoredVideo.stem`); ``times`` as :func:`video_times` gives them
    (read from the video when ``None``). Raises :class:`~core.video.cutting.OutputExistsError` for an
    existing file unless ``overwrite``, :class:`~core.video.cutting.CutError` for a folder that cannot be
    written, before anything is written.
    """
    paths = export_paths(folder, stem or video.stem)
    check_outputs([video.path], list(paths.values()), overwrite)
    if times is None:
        times = video_times(video)
    table = frame_table(video, times)
    frames = list(frame_rows(table))
    events = event_rows(video, times)
    threshold = video.threshold
    document = {
        "format": FORMAT, "version": VERSION, "run": video.run_id, "model": video.model,
        "video": {"id": video.video_id, "name": video.name, "path": str(video.path), "fps": video.fps,
                  "frames": video.frames},
        "threshold": threshold.to_dict(), "smoothing": {"window": threshold.window, "mode": threshold.smoothing},
        "flagging": dict(video.flagging), "frames": frames, "events": events,
    }
    Path(folder).mkdir(parents=True, exist_ok=True)
    write_json(paths["json"], document, indent=1)  # first: a number JSON cannot hold stops it before any file
    write_text(paths["scores_csv"], _csv(FRAME_COLUMNS, frames))
    write_text(paths["events_csv"], _csv(EVENT_COLUMNS, events))
    return paths
