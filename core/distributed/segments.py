"""A video's frames cut into segments; each segment's scores kept atomically; all of them merged into the score cache.

**Segments.** Frames ``0 .. n - 1`` of a video are cut into segments of ``segment_frames`` frames
(:func:`split_frames`; :data:`DEFAULT_SEGMENT_SECONDS` of footage by default). The last segment is
open-ended (``end`` ``None``: to the end of the video, whatever the header declared). A segment's scores are
those of its own frames only; its worker reads the frames *before* the segment's first one that the model needs
(:func:`score_segment`: :func:`~core.inference.anomaly.scoring.score_video` with ``start``, which reads back
as far as the windows of the frames from ``start`` on need: a prediction model's input clip, a reconstruction
model's windows that cover the first frame) and past its end as far as its last frame's windows reach. So the
segments overlap by what the model sees around a frame, and each frame gets the very score a single pass
gives.

**Keeping them.** Each segment's scores are one entry of a :class:`SegmentCache`, a
:class:`~core.inference.anomaly.score_cache.ScoreCache` in ``<project>/cache/segments/``, keyed by the
video's content key, the model file's fingerprint, the scoring parameters and the segment's frame range
(``params["segment"] = [start, end]``): written through :mod:`core.atomic_write` (scores, then the ``.json``
that vouches for them with their digest), read back only when key, parameters and digest agree. A rerun after
a killed driver or a lost worker finds the finished segments and scores only the others; a segment scored
twice (a worker lost after writing, before answering) is replaced by the same scores under the same name, so
frames are never mixed or counted twice.

**Merging.** :func:`merge_segments` joins a video's segments in frame order, checking that they tile its
frames (a segment that stops short is where the video ended; every segment after it must then be empty),
and writes the project's score cache entry single-process scoring writes for the video: complete, keyed alike,
so ``score_project`` then reads it as if it had scored the video itself.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.inference.anomaly.score_cache import CachedScores, ScoreCache, ScoreKey
from core.inference.errors import ScoreError

#: Footage per segment by default: five minutes.
DEFAULT_SEGMENT_SECONDS = 300.0
#: Frame rate assumed for a video whose rate is unknown, to size its segments.
FALLBACK_FPS = 25.0
SEGMENTS_FOLDER = Path("cache") / "segments"


@dataclass(frozen=True)
class Segment:
    """Frames ``start .. end - 1`` of a video (``end`` ``None``: to the video's end)."""

    start: int
    end: int | None

    def __post_init__(self) -> None:
        if self.start < 0 or (self.end is not None and self.end <= self.start):
            raise ScoreError(f"a segment is frames start .. end - 1 with 0 <= start < end, got {self.start}..{self.end}")

    @property
    def frames(self) -> int | None:
        """Its frame count (``None`` for the open-ended last segment)."""
        return None if self.end is None else self.end - self.start

    def label(self) -> str:
        return f"{self.start}-{'end' if self.end is None else self.end}"


def segment_frames_for(fps: float, seconds: float = DEFAULT_SEGMENT_SECONDS) -> int:
    """Frames in ``seconds`` of footage at ``fps`` (:data:`FALLBACK_FPS` when unknown), at least 1."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise ScoreError(f"segment length must be a positive number of seconds, got {seconds!r}")
    rate = fps if fps and math.isfinite(fps) and fps > 0 else FALLBACK_FPS
    return max(1, int(round(seconds * rate)))


def split_frames(frame_count: int | None, segment_frames: int) -> list[Segment]:
    """Segments of ``segment_frames`` frames covering ``frame_count`` frames, the last one open-ended; one
    open-ended segment when the count is unknown (``None`` or 0)."""
    if isinstance(segment_frames, bool) or not isinstance(segment_frames, int) or segment_frames < 1:
        raise ScoreError(f"segment length must be a whole number of frames >= 1, got {segment_frames!r}")
    if not frame_count or frame_count <= segment_frames:
        return [Segment(0, None)]
    starts = list(range(0, frame_count, segment_frames))
    return [Segment(start, next_start) for start, next_start in zip(starts, starts[1:], strict=False)] + [Segment(starts[-1], None)]


def segment_key(key: ScoreKey, segment: Segment) -> ScoreKey:
    """The key of ``segment``'s scores: the video's score cache key with the segment's range in its parameters."""
    return ScoreKey(key.model, key.video, {**key.params, "segment": [segment.start, segment.end]})


class SegmentCache(ScoreCache):
    """Segment scores of one project folder: a :class:`ScoreCache` in ``<project>/cache/segments/``."""

    def __init__(self, project_folder: str | Path) -> None:
        self.folder = Path(project_folder) / SEGMENTS_FOLDER

    def write_segment(self, key: ScoreKey, segment: Segment, scores: np.ndarray, video_id: str = "") -> None:
        """Store ``segment``'s scores (float32 ``(frames,)``) of the video ``key`` names, atomically."""
        scores = np.asarray(scores, np.float32)
        self.write(CachedScores(segment_key(key, segment), scores, int(scores.shape[0]), None, video_id))

    def read_segment(self, key: ScoreKey, segment: Segment) -> np.ndarray | None:
        """``segment``'s scores if a run stored them whole, else ``None`` (none, another key, damaged)."""
        entry = self.read(segment_key(key, segment))
        if entry is None or not entry.complete:
            return None
        if segment.frames is not None and entry.frames_done > segment.frames:
            return None  # more frames than the segment holds: not ours
        return entry.scores

    def remove_segments(self, key: ScoreKey, segments: Sequence[Segment]) -> None:
        """Delete the files of ``segments`` (once merged): best effort, a file left behind is harmless."""
        for segment in segments:
            for path in self.paths(segment_key(key, segment)):
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)


def merge_segments(segments: Sequence[Segment], parts: Sequence[np.ndarray], where: Any) -> np.ndarray:
    """One video's scores from its ``segments``' scores ``parts`` (in the same order), checked to tile its frames:
    every segment full, except that one may stop short where the video ended, after which the others are empty.
    :class:`ScoreError` naming ``where`` (the video) otherwise."""
    ended = False
    for segment, part in zip(segments, parts, strict=True):
        if ended and len(part):
            raise ScoreError(f"{where}: segment {segment.label()} has scores after the video ended: "
                             "its segments do not agree; remove the project's cache/segments folder and score again")
        if segment.frames is not None and len(part) < segment.frames:
            ended = True
    if not parts or not sum(len(part) for part in parts):
        raise ScoreError(f"{where}: no frame was scored")
    return np.concatenate([np.asarray(part, np.float32) for part in parts])


def write_merged(project_folder: str | Path, key: ScoreKey, scores: np.ndarray, video_id: str) -> None:
    """Write ``scores`` as the video's complete entry of the project's score cache (what single-process
    scoring writes when it finishes a video)."""
    ScoreCache(project_folder).write(CachedScores(key, np.asarray(scores, np.float32), int(len(scores)), None,
                                                  video_id))
