"""Video files decoded with OpenCV's FFmpeg backend, with verified frame-accurate random access.

Seeking in compressed video is where peer tools go wrong: ``CAP_PROP_POS_FRAMES`` lands on the wrong
frame for some containers (B-frames, edit lists, odd time bases). So the first time a source must seek
it *verifies* seeking: it decodes a few probe frames sequentially, seeks to each probe index and compares
the frames byte for byte. If every probe matches, seeks are trusted (``seek_mode == "seek"``);
otherwise the source falls back to decoding forward from the start (``"sequential"``), which is slow but
exact. Short forward jumps always decode forward, never seek.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from core.errors import Cancelled, CorruptVideoError, EmptyVideoError, FrameOutOfRangeError
from core.jobs import ProgressCallback, check_cancelled, report
from core.video.metadata import VideoMetadata
from core.video.source import VideoSource, check_color, convert_color

with contextlib.suppress(AttributeError):  # OpenCV's own log is quiet: errors reach users as VideoError
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

#: Forward jumps up to this many frames decode forward instead of seeking.
FORWARD_DECODE_LIMIT = 48
#: Frames decoded from the start to verify seeking before a full scan is available.
QUICK_VERIFY_FRAMES = 240
#: Number of probe frames used to verify seeking.
PROBES = 4


def _digest(frame: np.ndarray) -> bytes:
    return hashlib.blake2b(frame.tobytes(), digest_size=16).digest()


def _fourcc(value: float) -> str:
    code = int(value)
    if code <= 0:
        return "unknown"
    text = code.to_bytes(4, "little").decode("ascii", errors="replace")
    return text.strip("\x00 ").lower() or "unknown"


def _probe_indices(count: int) -> list[int]:
    """Probe positions spread over ``[0, count)``, avoiding frame 0 (trivially right after a seek)."""
    if count <= 2:
        return []
    picks = {round(count * (i + 1) / (PROBES + 1)) for i in range(PROBES)} | {count - 1}
    return sorted(k for k in picks if 0 < k < count)


class _Decoder:
    """One ``cv2.VideoCapture`` and the index of the frame its next ``grab`` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        if not self.cap.isOpened():
            self.cap.release()
            raise CorruptVideoError(
                path, "cannot be opened as a video: not a format FFmpeg reads, or the container is damaged or truncated"
            )
        self.next_index = 0

    def grab(self) -> bool:
        ok = self.cap.grab()
        if ok:
            self.next_index += 1
        return ok

    def retrieve(self) -> np.ndarray | None:
        ok, frame = self.cap.retrieve()
        return frame if ok and frame is not None else None

    def seek(self, index: int) -> None:
        self.cap.set(cv2.CAP_PROP_POS_FRAMES, float(index))
        self.next_index = index

    def rewind(self) -> None:
        """Back to frame 0 by reopening: exact on every container."""
        self.cap.release()
        self.cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        self.next_index = 0

    def release(self) -> None:
        self.cap.release()


class FileVideoSource(VideoSource):
    """A video file (MP4, AVI, MKV, MOV, MPEG, ...) read through OpenCV/FFmpeg."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        size = path.stat().st_size
        if size == 0:
            raise EmptyVideoError(path, "the file is empty (0 bytes)")
        decoder = _Decoder(path)
        cap = decoder.cap
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        declared = int(max(0, cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        codec = _fourcc(cap.get(cv2.CAP_PROP_FOURCC))
        if not decoder.grab() or (first := decoder.retrieve()) is None:
            decoder.release()
            raise CorruptVideoError(path, "no frame decodes: the file is damaged, truncated or not a video")
        if width <= 0 or height <= 0:
            height, width = first.shape[:2]
        if not np.isfinite(fps) or fps <= 0 or fps > 1000:
            fps = 25.0
        self._decoder = decoder
        self._meta = VideoMetadata(
            path=path, kind="file", width=width, height=height, fps=fps, codec=codec,
            declared_frame_count=declared, file_size=size,
        )
        self._probes: dict[int, bytes] | None = None
        self._seek_mode: str | None = None
        self._cached: tuple[int, np.ndarray] | None = (0, first)

    # -- metadata -------------------------------------------------------------------------------
    @property
    def metadata(self) -> VideoMetadata:
        from dataclasses import replace

        return replace(self._meta, frame_count=self._frame_count, seek_mode=self._seek_mode)

    @property
    def seek_mode(self) -> str:
        """``"seek"`` when container seeks were verified exact, ``"sequential"`` when they were not."""
        if self._seek_mode is None:
            self._verify_seeking()
        assert self._seek_mode is not None
        return self._seek_mode

    def scan(self, progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> VideoMetadata:
        with self._scan_lock:
            if self._frame_count is not None and self._probes is not None:
                return self.metadata
            declared = self._meta.declared_frame_count
            probe_at = set(_probe_indices(declared))
            probes: dict[int, bytes] = {}
            decoder = _Decoder(self.path)
            try:
                count = 0
                while decoder.grab():
                    if count in probe_at:
                        frame = decoder.retrieve()
                        if frame is not None:
                            probes[count] = _digest(frame)
                    count += 1
                    if count % 64 == 0:
                        check_cancelled(cancel, f"scan of {self.path.name}")
                        report(progress, count, declared or None, f"decoding {self.path.name}")
            finally:
                decoder.release()
            report(progress, count, count, f"decoded {count} frames")
            self._frame_count = count
            self._probes = {k: v for k, v in probes.items() if k < count}
            self._seek_mode = None  # re-verify with probes spread over the whole file
        return self.metadata

    def _verify_seeking(self) -> None:
        """Decide ``seek_mode`` by comparing seeks against a sequential decode (see module doc)."""
        probes = self._probes
        if probes is None:  # no full scan yet: probe the start of the file
            limit = min(self._meta.declared_frame_count or QUICK_VERIFY_FRAMES, QUICK_VERIFY_FRAMES)
            probe_at = set(_probe_indices(limit))
            probes = {}
            decoder = _Decoder(self.path)
            try:
                for k in range(limit):
                    if not decoder.grab():
                        break
                    if k in probe_at and (frame := decoder.retrieve()) is not None:
                        probes[k] = _digest(frame)
            finally:
                decoder.release()
        mode = "seek"
        decoder = _Decoder(self.path)
        try:
            for k in sorted(probes, reverse=True):
                decoder.seek(k)
                frame = decoder.retrieve() if decoder.grab() else None
                if frame is None or _digest(frame) != probes[k]:
                    mode = "sequential"
                    break
        finally:
            decoder.release()
        self._seek_mode = mode

    # -- frames ---------------------------------------------------------------------------------
    def _position(self, decoder: _Decoder, index: int) -> None:
        """Make ``decoder``'s next grab return frame ``index``."""
        gap = index - decoder.next_index
        if gap == 0:
            return
        if 0 < gap <= FORWARD_DECODE_LIMIT:
            pass  # decode forward below
        elif self.seek_mode == "seek":
            decoder.seek(index)
            return
        elif gap < 0:
            decoder.rewind()
        while decoder.next_index < index:
            if not decoder.grab():
                self._learn_end(decoder.next_index)
                raise self._out_of_range(index)

    def _learn_end(self, decoded: int) -> None:
        """Decoding forward stopped after ``decoded`` frames: that is the true count."""
        if self._frame_count is None:
            self._frame_count = decoded

    def read(self, index: int, color: str = "rgb") -> np.ndarray:
        check_color(color)
        index = int(index)
        if index < 0 or (self._frame_count is not None and index >= self._frame_count):
            raise self._out_of_range(index)
        if self._cached is not None and self._cached[0] == index:
            return convert_color(self._cached[1], color)
        decoder = self._decoder
        self._position(decoder, index)
        frame = decoder.retrieve() if decoder.grab() else None
        if frame is None:
            decoder.next_index = -(10**9)  # position unknown: the next read repositions
            if self._frame_count is None:
                self.scan()
            raise self._out_of_range(index)
        self._cached = (index, frame)
        return convert_color(frame, color)

    def iter_frames(
        self,
        start: int = 0,
        stop: int | None = None,
        step: int = 1,
        color: str = "rgb",
        cancel: threading.Event | None = None,
    ) -> Iterator[np.ndarray]:
        check_color(color)
        self._check_range(start, stop, step)
        if self._frame_count is not None and stop is not None and stop > self._frame_count:
            raise self._out_of_range(stop - 1)
        decoder = _Decoder(self.path)
        try:
            self._position(decoder, start)
            index = start
            while stop is None or index < stop:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"reading {self.path.name} cancelled")
                if not decoder.grab():
                    self._learn_end(decoder.next_index)
                    if stop is not None:
                        raise self._out_of_range(index)
                    return
                frame = decoder.retrieve()
                if frame is None:
                    raise CorruptVideoError(self.path, f"frame {index} fails to decode")
                yield convert_color(frame, color)
                index += step
                for _ in range(step - 1):
                    if stop is not None and decoder.next_index >= stop:
                        break
                    if not decoder.grab():
                        self._learn_end(decoder.next_index)
                        if stop is not None and index < stop:
                            raise self._out_of_range(index)
                        return
        finally:
            decoder.release()

    def close(self) -> None:
        self._decoder.release()


__all__ = ["FileVideoSource", "FrameOutOfRangeError"]
