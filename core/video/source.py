"""The interface every video source implements: files and image-sequence folders alike."""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from core.errors import FrameOutOfRangeError
from core.jobs import ProgressCallback
from core.video.metadata import VideoMetadata
from core.video.timing import first_frame_at, seconds_to_frames

COLOR_MODES = ("rgb", "bgr", "gray")


def convert_color(frame_bgr: np.ndarray, color: str) -> np.ndarray:
    """Convert an OpenCV BGR frame (or a gray one) to ``color``: rgb/bgr (H, W, 3) or gray (H, W)."""
    if frame_bgr.ndim == 2:
        if color == "gray":
            return frame_bgr
        return cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2RGB if color == "rgb" else cv2.COLOR_GRAY2BGR)
    if color == "rgb":
        return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    if color == "gray":
        return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    return frame_bgr


def check_color(color: str) -> None:
    if color not in COLOR_MODES:
        raise ValueError(f"color must be one of {COLOR_MODES}, not {color!r}")


class VideoSource(abc.ABC):
    """A sequence of frames with metadata: a video file or a folder of images.

    Frames are ``uint8`` arrays: ``(height, width, 3)`` in RGB (or BGR) order, or ``(height, width)``
    for gray. Frame ``k`` from :meth:`read` is always the ``k``-th frame of a sequential decode.
    A source is not thread-safe: give each thread its own (``open_video`` is cheap).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._frame_count: int | None = None
        self._scan_lock = threading.Lock()

    # -- metadata -------------------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def metadata(self) -> VideoMetadata:
        """Metadata; ``frame_count`` is filled in once the source has been scanned."""

    @property
    def fps(self) -> float:
        return self.metadata.fps

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        meta = self.metadata
        return meta.width, meta.height

    @property
    def frame_count(self) -> int:
        """Number of frames that actually decode (scans the source on first use)."""
        if self._frame_count is None:
            self.scan()
        assert self._frame_count is not None
        return self._frame_count

    def __len__(self) -> int:
        return self.frame_count

    @abc.abstractmethod
    def scan(self, progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> VideoMetadata:
        """Decode every frame once to learn how many decode; returns the completed metadata.

        Raises :class:`~core.errors.VideoError` for sources that cannot be used at all (e.g. an image
        folder with mixed frame sizes) and :class:`~core.errors.Cancelled` when cancelled.
        """

    # -- time ---------------------------------------------------------------------------------
    def frame_times(self) -> np.ndarray | None:
        """Every frame's timestamp in seconds after the first frame's, or ``None`` when frame ``k`` is
        known to start at ``k / fps`` (image folders, evenly timed files). Files with variable or gapped
        timestamps return the real ones (learning them may scan the file once)."""
        return None

    def frame_at_time(self, seconds: float) -> int:
        """The first frame whose display starts at or after ``seconds`` (the rule of
        :mod:`core.video.timing`, on the frames' real timestamps)."""
        return first_frame_at(seconds, self.fps, self.frame_times())

    def time_of_frame(self, index: int) -> float:
        """When frame ``index`` starts to show, in seconds after the first frame: ``index / fps`` on an
        evenly timed source, the real timestamp otherwise. ``index`` may be the frame count (the end of
        the last frame, one frame duration after its start)."""
        return float(self.times_of_frames(np.array([index]))[0])

    def times_of_frames(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        """:meth:`time_of_frame` of many frames at once: float64 seconds, the shape of ``indices``."""
        index = np.asarray(indices, dtype=np.int64)
        times = self.frame_times()
        if times is None or len(times) == 0:
            return index / self.fps
        times = np.asarray(times, np.float64)
        known = np.minimum(index, len(times) - 1)
        return np.where(index < len(times), times[known], times[-1] + (index - len(times) + 1) / self.fps)

    def frames_between(self, start_s: float, end_s: float) -> tuple[int, int]:
        """``[start_s, end_s)`` in seconds as the frame range ``[first, stop)`` of the frames whose display
        starts in it; on a file with gapped timestamps this follows the real times, not ``seconds * fps``."""
        return seconds_to_frames(start_s, end_s, self.fps, self.frame_times())

    # -- frames ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def read(self, index: int, color: str = "rgb") -> np.ndarray:
        """Frame ``index`` (0-based), exactly as a sequential decode would give it."""

    @abc.abstractmethod
    def iter_frames(
        self,
        start: int = 0,
        stop: int | None = None,
        step: int = 1,
        color: str = "rgb",
        cancel: threading.Event | None = None,
    ) -> Iterator[np.ndarray]:
        """Stream frames ``start, start+step, ...`` below ``stop`` (``None``: to the last that decodes).

        Memory stays flat: one frame is decoded at a time. An explicit ``stop`` beyond the frames that
        decode raises :class:`~core.errors.FrameOutOfRangeError` when the stream ends early.
        """

    def thumbnail(self, index: int | None = None, max_size: int = 160) -> np.ndarray:
        """A small RGB picture of frame ``index`` (default: a tenth of the way in), longest side ``max_size``."""
        if index is None:
            count = self._frame_count if self._frame_count is not None else self.metadata.declared_frame_count
            index = max(0, count // 10)
        frame = self.read(index, color="rgb")
        h, w = frame.shape[:2]
        scale = max_size / max(h, w)
        if scale < 1:
            frame = cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        return frame

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release decoders; the source may not be used afterwards."""

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers for subclasses -----------------------------------------------------------------
    def _check_range(self, start: int, stop: int | None, step: int) -> None:
        if start < 0:
            raise FrameOutOfRangeError(self.path, f"start frame {start} is negative")
        if step < 1:
            raise ValueError(f"step must be >= 1, not {step}")
        if stop is not None and stop < start:
            raise FrameOutOfRangeError(self.path, f"stop frame {stop} is before start frame {start}")

    def _out_of_range(self, index: int) -> FrameOutOfRangeError:
        count = self._frame_count
        declared = self.metadata.declared_frame_count
        if count is not None and count < declared:
            detail = f"only {count} of the {declared} frames the header declares decode (truncated or corrupt file)"
        elif count is not None:
            detail = f"the source has {count} frames"
        else:
            detail = f"the header declares {declared} frames"
        return FrameOutOfRangeError(self.path, f"frame {index} is out of range: {detail}")
