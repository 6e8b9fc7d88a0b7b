"""Per-frame preprocessing: resize, gray, scale to [0, 1], mean-frame subtraction."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

import cv2
import numpy as np

from core.errors import Cancelled
from core.jobs import ProgressCallback, check_cancelled, report
from core.preprocessing.spec import INTERPOLATIONS, PreprocessSpec
from core.video.source import VideoSource

T = TypeVar("T")

#: Frames decoded ahead by :func:`iter_prefetched` while the model runs on the previous batch.
PREFETCH_FRAMES = 64


def resize_frame(frame: np.ndarray, spec: PreprocessSpec) -> np.ndarray:
    """Resize a ``uint8`` frame to the spec's size; returns ``(height, width, channels)`` ``uint8``.

    ``frame`` must already be in the spec's color mode (``(H, W)`` gray or ``(H, W, 3)`` RGB).
    """
    h, w = frame.shape[:2]
    if (h, w) != (spec.height, spec.width):
        frame = cv2.resize(frame, (spec.width, spec.height), interpolation=INTERPOLATIONS[spec.interpolation])
    if frame.ndim == 2:
        frame = frame[:, :, None]
    return frame


def to_float(frame_uint8: np.ndarray, mean_frame: np.ndarray | None = None) -> np.ndarray:
    """``uint8`` -> float32 in [0, 1]; minus ``mean_frame`` (float32, same shape) when given."""
    out = frame_uint8.astype(np.float32)
    out *= np.float32(1.0 / 255.0)
    if mean_frame is not None:
        out -= mean_frame
    return out


def preprocess_frame(frame: np.ndarray, spec: PreprocessSpec, mean_frame: np.ndarray | None = None) -> np.ndarray:
    """One frame in the spec's color mode -> float32 ``(height, width, channels)``."""
    return to_float(resize_frame(frame, spec), mean_frame if spec.subtract_mean else None)


def iter_resized(
    source: VideoSource,
    spec: PreprocessSpec,
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
    cancel: threading.Event | None = None,
) -> Iterator[np.ndarray]:
    """Stream resized ``uint8`` frames ``(height, width, channels)`` from ``source``: frames ``start``,
    ``start + step``, ... before ``stop``. With ``spec.signal == "speed"`` each is that frame's speed map
    (:func:`iter_speed`)."""
    if spec.signal == "speed":
        yield from iter_speed(source, spec, start, stop, step, cancel)
        return
    for frame in source.iter_frames(start, stop, step, color=spec.color, cancel=cancel):
        yield resize_frame(frame, spec)


def iter_speed(source: VideoSource, spec: PreprocessSpec, start: int = 0, stop: int | None = None, step: int = 1,
               cancel: threading.Event | None = None) -> Iterator[np.ndarray]:
    """The speed maps ``(height, width, 1)`` uint8 of frames ``start``, ``start + step``, ... of ``source``
    (:mod:`core.motion.speed`), each exactly what the whole video's maps hold there: the flow needs every
    frame from the one before ``start`` (frame 0 gets frame 1's motion), so all of them are decoded."""
    from core.motion.speed import speed_frames

    first = max(0, start - 1)
    read_to = None if stop is None else max(stop, 2)  # frame 0's map is frame 1's
    frames = source.iter_frames(first, read_to, 1, color="gray", cancel=cancel)
    maps = speed_frames(frames, spec.height, spec.width, cancel=cancel)
    for index, found in enumerate(maps, start=first):
        if stop is not None and index >= stop:
            break
        if index >= start and (index - start) % step == 0:
            yield found[:, :, None]


def iter_prefetched(items: Iterator[T], depth: int = PREFETCH_FRAMES,
                    cancel: threading.Event | None = None) -> Iterator[T]:
    """The items of ``items``, in order, produced on a background thread at most ``depth`` ahead of the
    consumer: decoding and resizing the next frames overlaps whatever the consumer does meanwhile (the
    model's batch), and both release the GIL for most of their time.

    ``items`` is advanced on that thread only (so a video's decoder is used by one thread at a time) and
    closed there when it ends, fails or is abandoned. Its exceptions (a damaged frame, :class:`Cancelled`
    from a source given ``cancel``) are raised here, after the items before them. Closing this iterator
    (the consumer stops early) stops the producer and waits for it, so the video can be closed safely
    afterwards; ``cancel`` set stops it too, within one frame.
    """
    if depth < 1:
        raise ValueError(f"prefetch depth must be >= 1, got {depth!r}")
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[str, object]) -> bool:
        while not stop.is_set() and not (cancel is not None and cancel.is_set()):
            try:
                buffer.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(("error", exc))
        else:
            put(("end", None))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    producer = threading.Thread(target=produce, name="frame-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            try:
                kind, value = buffer.get(timeout=0.05)
            except queue.Empty:
                check_cancelled(cancel, "decoding")
                if not producer.is_alive() and buffer.empty():  # it stopped on a cancel cleared since
                    raise Cancelled("decoding cancelled") from None
                continue
            if kind == "item":
                yield value
            elif kind == "error":
                raise value  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
        producer.join()


def iter_preprocessed(
    source: VideoSource,
    spec: PreprocessSpec,
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
    mean_frame: np.ndarray | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[np.ndarray]:
    """Stream float32 frames ``(height, width, channels)`` in [0, 1] (or [-1, 1] with a mean frame)."""
    for frame in iter_resized(source, spec, start, stop, step, cancel):
        yield to_float(frame, mean_frame if spec.subtract_mean else None)


def compute_mean_frame(
    sources: Iterable[VideoSource],
    spec: PreprocessSpec,
    step: int = 1,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Mean over every ``step``-th frame of ``sources``: float32 ``(height, width, channels)`` in [0, 1].

    Accumulates in float64, one frame at a time, so memory does not grow with footage length.
    """
    total = np.zeros(spec.frame_shape, np.float64)
    count = 0
    for source in sources:
        for frame in iter_resized(source, spec, step=step, cancel=cancel):
            total += frame
            count += 1
            if count % 100 == 0:
                check_cancelled(cancel, "mean frame")
                report(progress, count, None, f"mean frame: {count} frames")
    if count == 0:
        raise ValueError("cannot compute a mean frame from no frames")
    return (total / (count * 255.0)).astype(np.float32)
