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
    scanned (``None`` before). ``fps`` is frames per second; sizes are in pixels.
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

    @property
    def duration_s(self) -> float | None:
        """Duration in seconds of the frames that decode (declared count before a scan)."""
        count = self.frame_count if self.frame_count is not None else self.declared_frame_count
        return count / self.fps if self.fps > 0 else None

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
