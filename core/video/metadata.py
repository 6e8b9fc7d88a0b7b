"""Metadata of a video source."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class VideoMetadata:
    """What a source says about itself, and what decoding found.

    ``declared_frame_count`` is what the container header (or the folder listing) claims;
    ``frame_count`` is the number of frames that actually decode, known once the source has been
    scanned (``None`` before). ``fps`` is frames per second (the container's nominal rate); sizes are
    in pixels.

    ``even_timing`` is true when frame ``k`` is proven to sit at ``k / fps`` from the first frame, false
    when the frames' timestamps are variable or gapped (VFR files, AVI captures with dropped-frame
    slots), ``None`` until checked. ``last_frame_time_s`` is the last decoded frame's timestamp in
    seconds after the first frame's, known after a scan.
    """

    path: Path
    kind: str  # "file" or "image_sequence"
    width: int
    height: int
    fps: float
    codec: str
    declared_frame_count: int
    frame_count: int | None = None
    file_size: int = 0
    seek_mode: str | None = None  # how random access is done, once verified
    even_timing: bool | None = None
    last_frame_time_s: float | None = None

    @property
    def duration_s(self) -> float | None:
        """Playing time in seconds: after a scan, the last frame's timestamp plus one frame duration
        (``1 / fps``), which on a file with gapped or variable timestamps is longer than
        ``count / fps``; before one, the declared count over the frame rate."""
        if self.fps <= 0:
            return None
        if self.last_frame_time_s is not None:
            return self.last_frame_time_s + 1.0 / self.fps
        count = self.frame_count if self.frame_count is not None else self.declared_frame_count
        return count / self.fps

    @property
    def truncated(self) -> bool:
        """True when fewer frames decode than the header declares."""
        return self.frame_count is not None and self.frame_count < self.declared_frame_count

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (paths as strings, derived fields included)."""
        data = asdict(self)
        data["path"] = str(self.path)
        data["duration_s"] = self.duration_s
        data["truncated"] = self.truncated
        return data
