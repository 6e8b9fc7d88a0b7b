"""Video files decoded with OpenCV's FFmpeg backend, with verified frame-accurate random access.

Seeking in compressed video is where peer tools go wrong: ``CAP_PROP_POS_FRAMES`` lands on the wrong
frame for some containers (B-frames, edit lists, odd time bases). So the first time a source must seek
it *verifies* seeking: it decodes a few probe frames sequentially, seeks to each probe index and compares
the frames byte for byte. If every probe matches, seeks are trusted (``seek_mode == "seek"``);
otherwise the source falls back to decoding forward from the start (``"sequential"``), which is slow but
exact. Short forward jumps always decode forward, never seek.

A seek's landing frame is named by its presentation time, and ``time * fps`` names the right frame only
on an evenly timed file. Variable-frame-rate files and AVI captures with dropped-frame slots (the header
counts the slots; fewer frames decode, unevenly spaced) break that silently, and a few probe frames need
not notice. So before trusting ``time * fps`` the source proves even timing: from the container's packet
list (:mod:`core.video.packets`, no decoding: as many packets as declared frames, evenly spaced, none
so small it may hold no picture), and then from a sequential decode of the first frames (they must
decode one per packet, at ``k / fps``: a slot stored as a packet that decodes to nothing shows here). A
file it cannot prove is scanned first, and its seeks are then named by the real timestamp table.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from core.errors import (
    Cancelled,
    CorruptVideoError,
    EmptyVideoError,
    FrameOutOfRangeError,
    UnreadableVideoError,
    UnsupportedFormatError,
    VideoNotFoundError,
)
from core.jobs import ProgressCallback, check_cancelled, report
from core.video.container import SINGLE_IMAGE_PROBLEM, TEXT_CODECS, TEXT_PROBLEM, is_single_image
from core.video.metadata import VideoMetadata
from core.video.packets import evenly_timed, packet_list
from core.video.source import VideoSource, check_color, convert_color
from core.video.video_path import video_path_kind

with contextlib.suppress(AttributeError):  # OpenCV's own log is quiet: errors reach users as VideoError
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

#: Forward jumps up to this many frames decode forward instead of seeking.
FORWARD_DECODE_LIMIT = 48
#: Frames decoded from the start to check even timing and verify seeking before a full scan is available.
QUICK_VERIFY_FRAMES = 240
#: Number of probe frames spread over the file to verify seeking (plus a few early ones).
PROBES = 5


def _digest(frame: np.ndarray) -> bytes:
    return hashlib.blake2b(frame.tobytes(), digest_size=16).digest()


def _fourcc(value: float) -> str:
    code = int(value)
    if code <= 0:
        return "unknown"
    text = code.to_bytes(4, "little").decode("ascii", errors="replace")
    return text.strip("\x00 ").lower() or "unknown"


def _probe_indices(count: int) -> list[int]:
    """Probe positions: a few early frames (inside the first group of pictures, where seeks
    into MPEG-PS/TS go wrong), some spread over ``[0, count)``, and the last frame."""
    picks = {1, 3, count // 50 + 2} | {round(count * (i + 1) / (PROBES + 1)) for i in range(PROBES)} | {count - 1}
    return sorted(k for k in picks if 0 < k < count)


def _check_readable(path: Path) -> None:
    """Raise :class:`UnreadableVideoError` when the file exists but may not be read (permissions)."""
    denied = not os.access(path, os.R_OK)
    if not denied:
        try:
            with open(path, "rb"):
                pass
        except PermissionError:
            denied = True
    if denied:
        raise UnreadableVideoError(path, "cannot be read: permission denied (check the file's permissions)")


class _Decoder:
    """One ``cv2.VideoCapture``; ``current`` is the index of the frame last grabbed (-1: none yet)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cap = self._open()
        self.current = -1
        self.from_start = True  # decoded sequentially from frame 0 (no seek since): counts are exact

    def grab(self) -> bool:
        ok = self.cap.grab()
        if ok:
            self.current += 1
        return ok

    def retrieve(self) -> np.ndarray | None:
        ok, frame = self.cap.retrieve()
        return frame if ok and frame is not None else None

    def pts_ms(self) -> float:
        """Presentation time of the frame last grabbed, in milliseconds."""
        return float(self.cap.get(cv2.CAP_PROP_POS_MSEC))

    def seek_near(self, index: int) -> bool:
        """Container seek towards ``index`` and grab; ``current`` is unknown afterwards (caller sets it)."""
        self.from_start = False
        self.cap.set(cv2.CAP_PROP_POS_FRAMES, float(index))
        return self.cap.grab()

    def _open(self) -> cv2.VideoCapture:
        try:  # the file may have been replaced by a named pipe since: opening that would block
            video_path_kind(self.path)
        except VideoNotFoundError:
            raise VideoNotFoundError(self.path, "is gone: the file was moved or deleted while it was open") from None
        cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if cap.isOpened():
            return cap
        cap.release()
        _check_readable(self.path)
        raise CorruptVideoError(
            self.path, "cannot be opened as a video: not a format FFmpeg reads, or the container is damaged or truncated"
        )

    def rewind(self) -> None:
        """Back to before frame 0 by reopening: exact on every container."""
        self.cap.release()
        self.cap = self._open()
        self.current = -1
        self.from_start = True

    def release(self) -> None:
        self.cap.release()


class FileVideoSource(VideoSource):
    """A video file (MP4, AVI, MKV, MOV, MPEG, TS, ...) read through OpenCV/FFmpeg."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        if video_path_kind(path) != "file":
            raise UnsupportedFormatError(path, "is a folder: open it as an image sequence (open_video)")
        size = path.stat().st_size
        if size == 0:
            raise EmptyVideoError(path, "the file is empty (0 bytes)")
        _check_readable(path)
        decoder = _Decoder(path)
        cap = decoder.cap
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        declared = int(max(0, cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        codec = _fourcc(cap.get(cv2.CAP_PROP_FOURCC))
        if codec in TEXT_CODECS or (declared <= 1 and is_single_image(path)):
            decoder.release()
            raise UnsupportedFormatError(path, TEXT_PROBLEM if codec in TEXT_CODECS else SINGLE_IMAGE_PROBLEM)
        if not decoder.grab() or (first := decoder.retrieve()) is None:
            decoder.release()
            raise CorruptVideoError(path, "no frame decodes: the file is damaged, truncated or not a video")
        if width <= 0 or height <= 0:
            height, width = first.shape[:2]
        if not np.isfinite(fps) or fps <= 0 or fps > 1000:
            fps = 25.0
        self._decoder = decoder
        self._pts0 = decoder.pts_ms()
        self._meta = VideoMetadata(
            path=path, kind="file", width=width, height=height, fps=fps, codec=codec,
            declared_frame_count=declared, file_size=size,
        )
        self._pts: np.ndarray | None = None  # presentation time (ms) of every frame, after a scan
        self._pts_sorted: np.ndarray | None = None  # the same, ascending (to look a time up)
        self._even: bool | None = None  # frame k proven at k/fps (None: not checked, or no timestamps)
        self._timing_checked = False
        self._probes: dict[int, bytes] | None = None  # digests of probe frames, from a scan
        self._start_probes: dict[int, bytes] | None = None  # the same over the first frames only
        self._seek_mode: str | None = None
        self._cached: tuple[int, np.ndarray] | None = (0, first)
        self._closed = False

    # -- metadata -------------------------------------------------------------------------------
    @property
    def metadata(self) -> VideoMetadata:
        last_time = None
        if self._pts is not None and self._even is False:
            last_time = float(self._pts_sorted[-1] - self._pts_sorted[0]) / 1000.0
        return replace(self._meta, frame_count=self._frame_count, seek_mode=self._seek_mode,
                       even_timing=self._even, last_frame_time_s=last_time)

    @property
    def seek_mode(self) -> str:
        """``"seek"`` when checked container seeks were verified exact, ``"sequential"`` otherwise."""
        if self._seek_mode is None:
            self._verify_seeking()
        assert self._seek_mode is not None
        return self._seek_mode

    def scan(self, progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> VideoMetadata:
        with self._scan_lock:
            if self._pts is not None:
                return self.metadata
            declared = self._meta.declared_frame_count
            probe_at = set(_probe_indices(declared))
            probes: dict[int, bytes] = {}
            pts: list[float] = []
            decoder = _Decoder(self.path)
            try:
                while decoder.grab():
                    pts.append(decoder.pts_ms())
                    if decoder.current in probe_at and (frame := decoder.retrieve()) is not None:
                        probes[decoder.current] = _digest(frame)
                    if len(pts) % 64 == 0:
                        check_cancelled(cancel, f"scan of {self.path.name}")
                        report(progress, len(pts), declared or None, f"decoding {self.path.name}")
            finally:
                decoder.release()
            count = len(pts)
            wanted = set(_probe_indices(count))
            if not wanted <= probes.keys():  # the header's count was wrong (or missing): probe where frames are
                probes = self._sequential_digests(wanted, count, cancel)
            report(progress, count, count, f"decoded {count} frames")
            self._frame_count = count
            self._pts = np.asarray(pts, np.float64)
            self._pts_sorted = np.sort(self._pts)
            self._even = self._timing_of_table()
            self._timing_checked = True
            self._probes = probes
            self._seek_mode = None  # verify again with probes spread over the whole file
        return self.metadata

    # -- timing ---------------------------------------------------------------------------------
    def _timing_of_table(self) -> bool | None:
        """Even timing judged from the scanned timestamps (``None``: they are no timestamps, e.g. a raw
        stream whose times do not increase; frames are then taken at ``k / fps``)."""
        assert self._pts is not None
        if len(self._pts) > 1 and not np.all(np.diff(self._pts) > 0):
            return None
        return evenly_timed([float(t) / 1000.0 for t in self._pts], self._meta.fps, len(self._pts))

    def _check_timing(self) -> bool | None:
        """Whether frame ``k`` is at ``k / fps``: proven from the packet list and a decode of the first
        frames, or learned by a scan (which records every frame's timestamp) when they cannot prove it."""
        if not self._timing_checked:
            packets = packet_list(self.path)
            declared = self._meta.declared_frame_count
            if packets is not None and packets.proves_even_timing(self._meta.fps, declared) and self._start_is_even():
                self._even = True
                self._timing_checked = True
            else:  # variable or gapped timestamps, pictureless packets, or a header count the packets do not match
                self.scan()
        return self._even

    def _start_is_even(self) -> bool:
        """Decode the first :data:`QUICK_VERIFY_FRAMES` frames (all, on a shorter file): True when every
        packet there gave one frame, frame ``k`` at ``k / fps`` after frame 0. Keeps the probe frames'
        digests for :meth:`_verify_seeking` (a second decode of the same frames is not needed)."""
        limit = min(self._meta.declared_frame_count, QUICK_VERIFY_FRAMES)
        probe_at = set(_probe_indices(limit))
        digests: dict[int, bytes] = {}
        times_s: list[float] = []
        decoder = _Decoder(self.path)
        try:
            while decoder.current + 1 < limit and decoder.grab():
                times_s.append(decoder.pts_ms() / 1000.0)
                if decoder.current in probe_at and (frame := decoder.retrieve()) is not None:
                    digests[decoder.current] = _digest(frame)
        finally:
            decoder.release()
        self._start_probes = digests
        return evenly_timed(times_s, self._meta.fps, limit)

    def frame_times(self) -> np.ndarray | None:
        if self._check_timing() is not False:
            return None
        assert self._pts_sorted is not None
        return (self._pts_sorted - self._pts_sorted[0]) / 1000.0

    # -- seeking --------------------------------------------------------------------------------
    def _index_of_pts(self, pts_ms: float) -> int | None:
        """The frame index whose presentation time is ``pts_ms`` (``None`` if no frame matches).

        Uses the scanned timestamp table where there is one. ``time * fps`` is used before a scan only on
        files the packet list proved evenly timed (:meth:`_verify_seeking` scans the others first), and
        on streams whose scanned times do not increase (no real timestamps), where the probe check decides."""
        table = self._pts_sorted
        if table is not None and len(table) and self._even is not None:
            k = int(np.searchsorted(table, pts_ms))
            best = min((j for j in (k - 1, k) if 0 <= j < len(table)), key=lambda j: abs(table[j] - pts_ms))
            gaps = [abs(table[j] - table[best]) for j in (best - 1, best + 1) if 0 <= j < len(table)]
            tolerance = min([500.0 / self._meta.fps, *(g / 2 for g in gaps)])
            if abs(table[best] - pts_ms) >= tolerance:
                return None
            return best  # the table is ascending here (checked by the scan), so sorted order is frame order
        return round((pts_ms - self._pts0) * self._meta.fps / 1000.0)

    def _seek_position(self, index: int) -> int:
        """What to ask the container for to land near frame ``index``: OpenCV counts frames as
        ``time * fps``, so on a gapped file frame ``index`` is asked for by its time."""
        if self._even is False and self._pts is not None and index < len(self._pts):
            position = round((self._pts[index] - self._pts_sorted[0]) * self._meta.fps / 1000.0)
            declared = self._meta.declared_frame_count
            return max(0, min(position, declared - 1) if declared > 0 else position)
        return index

    def _seek_checked(self, decoder: _Decoder, index: int) -> None:
        """Leave ``decoder`` with frame ``index`` grabbed, seeking and checking where the seek landed.

        A container seek may land past or before the asked frame; the landing frame's presentation
        time says which frame it is. Landed before: decode forward. Landed after: seek further back.
        """
        back = 0
        for _ in range(4):
            target = index - back
            if target <= 0:
                break
            if not decoder.seek_near(self._seek_position(target)):
                break
            landed = self._index_of_pts(decoder.pts_ms())
            if landed is None:
                break
            if landed <= index:
                decoder.current = landed
                self._decode_forward(decoder, index)
                return
            back = max(2 * back, FORWARD_DECODE_LIMIT)
        decoder.rewind()
        self._decode_forward(decoder, index)

    def _decode_forward(self, decoder: _Decoder, index: int) -> None:
        while decoder.current < index:
            if not decoder.grab():
                if decoder.from_start:
                    self._learn_end(decoder.current + 1)
                elif self._frame_count is None:
                    self.scan()  # after a seek the end is not exact: learn the true count first
                raise self._out_of_range(index)

    def _goto(self, decoder: _Decoder, index: int) -> None:
        """Leave ``decoder`` with frame ``index`` grabbed (ready to retrieve)."""
        gap = index - decoder.current
        if 0 <= gap <= FORWARD_DECODE_LIMIT and decoder.current >= 0 or index == decoder.current + 1:
            self._decode_forward(decoder, index)
        elif self.seek_mode == "seek":
            self._seek_checked(decoder, index)
        else:
            if gap < 0 or decoder.current < 0:
                decoder.rewind()
            self._decode_forward(decoder, index)

    def _verify_seeking(self) -> None:
        """Decide ``seek_mode`` by comparing checked seeks against a sequential decode (module doc)."""
        self._check_timing()  # a file not proven evenly timed is scanned first (module doc)
        probes = self._probes if self._probes is not None else self._start_probes  # a scan's, or the start's
        assert probes is not None  # _check_timing either scanned or decoded the start
        self._seek_mode = "seek"  # tentatively, so that _goto seeks
        decoder = _Decoder(self.path)
        try:
            for k in sorted(probes, reverse=True):
                decoder.current = -(10**9)  # force a real seek for every probe
                try:
                    self._seek_checked(decoder, k)
                    frame = decoder.retrieve()
                except FrameOutOfRangeError:
                    frame = None
                if frame is None or _digest(frame) != probes[k]:
                    self._seek_mode = "sequential"
                    break
        finally:
            decoder.release()

    def _sequential_digests(self, indices: set[int], limit: int, cancel: threading.Event | None = None) -> dict[int, bytes]:
        """Digests of frames ``indices`` from a sequential decode of the first ``limit`` frames."""
        digests: dict[int, bytes] = {}
        decoder = _Decoder(self.path)
        try:
            while decoder.current + 1 < limit and decoder.grab():
                if decoder.current in indices and (frame := decoder.retrieve()) is not None:
                    digests[decoder.current] = _digest(frame)
                if decoder.current % 64 == 0:
                    check_cancelled(cancel, f"scan of {self.path.name}")
        finally:
            decoder.release()
        return digests

    def _learn_end(self, decoded: int) -> None:
        """Sequential decoding stopped after ``decoded`` frames: that is the true count."""
        if self._frame_count is None:
            self._frame_count = decoded

    # -- frames ---------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{self.path.name}: the video source is closed")

    def read(self, index: int, color: str = "rgb") -> np.ndarray:
        check_color(color)
        self._check_open()
        index = int(index)
        if index < 0 or (self._frame_count is not None and index >= self._frame_count):
            raise self._out_of_range(index)
        if self._cached is not None and self._cached[0] == index:
            return convert_color(self._cached[1], color)
        decoder = self._decoder
        try:
            self._goto(decoder, index)
            frame = decoder.retrieve()
        except FrameOutOfRangeError:
            decoder.rewind()
            raise
        if frame is None:
            decoder.rewind()
            raise CorruptVideoError(self.path, f"frame {index} fails to decode")
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
        self._check_open()
        self._check_range(start, stop, step)
        if self._frame_count is not None and stop is not None and stop > self._frame_count:
            raise self._out_of_range(stop - 1)
        decoder = _Decoder(self.path)
        try:
            index = start
            while stop is None or index < stop:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"reading {self.path.name} cancelled")
                try:
                    self._goto(decoder, index)
                except FrameOutOfRangeError:
                    if stop is None:
                        return  # the end of what decodes
                    raise
                frame = decoder.retrieve()
                if frame is None:
                    raise CorruptVideoError(self.path, f"frame {index} fails to decode")
                yield convert_color(frame, color)
                index += step
        finally:
            decoder.release()

    def close(self) -> None:
        """Release the decoder; reading afterwards raises ``ValueError`` (it reopened the file before)."""
        self._closed = True
        self._cached = None
        self._decoder.release()
