"""Frames for the player, decoded off the GUI thread with read-ahead and a small LRU cache.

:class:`FrameProvider` lives on the GUI thread; a decoding thread owns its own
:class:`~core.video.VideoSource` (sources are not thread-safe). The GUI asks for frame ``k`` with
:meth:`FrameProvider.request`: a cached frame comes back at once, any other is decoded on the thread
and delivered later by ``frame_ready(k, frame)``. While playing, the thread decodes the next
``read_ahead`` frames after the last request, so playback normally finds its frames in the cache;
the cache keeps recent frames too, so stepping back is instant.

Frames are ``uint8`` RGB arrays ``(height, width, 3)``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from core.errors import FrameOutOfRangeError
from core.video import VideoMetadata, open_video


class FrameCache:
    """A thread-safe LRU of decoded frames keyed by frame index."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, index: int) -> np.ndarray | None:
        with self._lock:
            frame = self._frames.get(index)
            if frame is not None:
                self._frames.move_to_end(index)
            return frame

    def put(self, index: int, frame: np.ndarray) -> None:
        with self._lock:
            self._frames[index] = frame
            self._frames.move_to_end(index)
            while len(self._frames) > self.capacity:
                self._frames.popitem(last=False)

    def __contains__(self, index: int) -> bool:
        with self._lock:
            return index in self._frames

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()


class _DecodeThread(threading.Thread):
    """Owns one VideoSource; serves requests first, then reads ahead while playing."""

    def __init__(self, provider: FrameProvider, generation: int, path: Path, fps: float | None) -> None:
        super().__init__(name=f"frame-decoder-{path.name}", daemon=True)
        self.provider = provider
        self.generation = generation
        self.path = path
        self.fps = fps
        self.cache = FrameCache(provider.cache_size)
        self.cond = threading.Condition()
        self.stopping = False
        self.wanted: int | None = None  # a frame the GUI waits for
        self.head = 0  # read ahead from here
        self.playing = False
        self.step = 1
        self.end: int | None = None  # first index known not to decode
        self.decoded = 0

    # -- called from the GUI thread ---------------------------------------------------------------
    def want(self, index: int) -> None:
        with self.cond:
            self.wanted = index
            self.head = index
            self.cond.notify()

    def advance(self, index: int) -> None:
        with self.cond:
            self.head = index
            self.cond.notify()

    def set_playing(self, playing: bool, step: int) -> None:
        with self.cond:
            self.playing = playing
            self.step = max(1, step)
            self.cond.notify()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify()

    # -- the thread -------------------------------------------------------------------------------
    def _next_ahead(self) -> int | None:
        if not self.playing:
            return None
        for i in range(1, self.provider.read_ahead + 1):
            k = self.head + i * self.step
            if self.end is not None and k >= self.end:
                return None
            if k not in self.cache:
                return k
        return None

    def run(self) -> None:
        emit = self.provider._decoded.emit
        try:
            source = open_video(self.path, fps=self.fps)
        except Exception as exc:  # noqa: BLE001 - reported to the GUI
            self.provider._failed.emit(self.generation, exc)
            return
        try:
            self.provider._opened.emit(self.generation, source.metadata)
            while True:
                with self.cond:
                    while not self.stopping and self.wanted is None and self._next_ahead() is None:
                        self.cond.wait()
                    if self.stopping:
                        return
                    index, urgent = (self.wanted, True) if self.wanted is not None else (self._next_ahead(), False)
                    self.wanted = None
                assert index is not None
                frame = self.cache.get(index)
                if frame is None:
                    try:
                        frame = source.read(index, color="rgb")
                    except FrameOutOfRangeError as exc:
                        with self.cond:
                            if self.end is None or index < self.end:
                                self.end = index
                        if urgent:
                            self.provider._out_of_range.emit(self.generation, index, exc)
                        continue
                    except Exception as exc:  # noqa: BLE001 - a frame that fails to decode
                        self.provider._failed.emit(self.generation, exc)
                        with self.cond:
                            self.end = index if self.end is None else min(self.end, index)
                        continue
                    self.decoded += 1
                    self.cache.put(index, frame)
                if urgent:
                    emit(self.generation, index, frame)
        finally:
            source.close()


class FrameProvider(QObject):
    """Frames of one video for the GUI; see the module docstring."""

    frame_ready = Signal(int, object)  # index, RGB uint8 (H, W, 3)
    opened = Signal(object)  # VideoMetadata
    failed = Signal(object)  # an exception: the video cannot be opened or a frame cannot be decoded
    out_of_range = Signal(int)  # a requested index does not decode (past the end)

    _decoded = Signal(int, int, object)
    _opened = Signal(int, object)
    _failed = Signal(int, object)
    _out_of_range = Signal(int, int, object)

    def __init__(self, cache_size: int = 48, read_ahead: int = 12, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache_size = cache_size
        self.read_ahead = read_ahead
        self.metadata: VideoMetadata | None = None
        self.path: Path | None = None
        self._thread: _DecodeThread | None = None
        self._generation = 0
        self._decoded.connect(self._on_decoded)
        self._opened.connect(self._on_opened)
        self._failed.connect(self._on_failed)
        self._out_of_range.connect(self._on_out_of_range)

    # -- control --------------------------------------------------------------------------------
    def open(self, path: str | Path, fps: float | None = None) -> None:
        """Start decoding ``path`` (a file or image folder); ``opened`` or ``failed`` follows."""
        self.close()
        self._generation += 1
        self.path = Path(path)
        self.metadata = None
        self._thread = _DecodeThread(self, self._generation, self.path, fps)
        self._thread.start()

    def close(self) -> None:
        """Stop the decoding thread (it finishes the frame it is decoding, then exits)."""
        if self._thread is not None:
            self._thread.stop()
            self._thread.join(timeout=2.0)
            self._thread = None
        self._generation += 1
        self.path = None

    @property
    def is_open(self) -> bool:
        return self._thread is not None

    def request(self, index: int) -> np.ndarray | None:
        """Frame ``index`` if cached (and remember it as the read-ahead head), else ``None`` and
        decode it: ``frame_ready(index, frame)`` follows."""
        thread = self._thread
        if thread is None:
            return None
        frame = thread.cache.get(index)
        if frame is not None:
            thread.advance(index)
            return frame
        thread.want(index)
        return None

    def cached(self, index: int) -> np.ndarray | None:
        return None if self._thread is None else self._thread.cache.get(index)

    def set_playing(self, playing: bool, step: int = 1) -> None:
        """Read ahead (every ``step``-th frame) while playing; stop reading ahead when paused."""
        if self._thread is not None:
            self._thread.set_playing(playing, step)

    @property
    def frames_decoded(self) -> int:
        return 0 if self._thread is None else self._thread.decoded

    # -- relays on the GUI thread ---------------------------------------------------------------
    @Slot(int, int, object)
    def _on_decoded(self, generation: int, index: int, frame: np.ndarray) -> None:
        if generation == self._generation:
            self.frame_ready.emit(index, frame)

    @Slot(int, object)
    def _on_opened(self, generation: int, metadata: VideoMetadata) -> None:
        if generation == self._generation:
            self.metadata = metadata
            self.opened.emit(metadata)

    @Slot(int, object)
    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.failed.emit(exc)

    @Slot(int, int, object)
    def _on_out_of_range(self, generation: int, index: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.out_of_range.emit(index)
