"""One decode of a video for both signals of the fused scorer: the predictor's error and the motion statistics.

The fused scorer (:mod:`core.inference.anomaly.scorers`) needs two scores of every frame: the next-frame
predictor's error (a network at, say, 96x64) and the motion statistics' unlikelihood of the optical flow that led
to the frame (DIS flow at about half size). :func:`score_shared` reads the video **once** for both:

* a **producer thread** decodes each frame once (in the predictor's colour; gray, the motion's, is then the
  same decoded picture), resizes it to the predictor's size and to the motion's working size, hands the
  former to the predictor through a bounded queue and computes the optical flow and its motion score on the
  latter (:func:`~core.inference.anomaly.motion_scoring.score_motion`, fed these frames);
* the **calling thread** runs the predictor on those frames in batches
  (:func:`~core.inference.anomaly.scoring.score_video`, fed the queue), so the flow of the coming frames is
  computed while TensorFlow works on a batch (OpenCV's flow and TensorFlow both release the GIL).

OpenCV runs on one thread meanwhile (:func:`opencv_on_one_thread`): the decoding thread already overlaps the
predictor, and OpenCV's own worker threads for the flow only add their waiting to the CPU time (DIS ``medium`` at
180x120: about 2.1 against 2.5 ms of CPU a frame on two busy cores, the same flow).

The scores are exactly those of the two separate passes: each signal sees the same decoded frames, resized the
same way, and runs the same code; only who decodes them changes. Both are yielded on the calling thread, in
frame order per signal, as ``(signal, FrameScore)`` with ``signal`` :data:`PREDICTION` or :data:`MOTION`. Each
signal starts at its own frame (a resumed partial cache entry): the decode starts at the earlier frame either
needs. Cancelling (``cancel``) stops the decode at the next frame and the predictor between batches with
:class:`~core.errors.Cancelled`; an error in either (a frame that fails to decode, a video too short) is raised
on the calling thread, and the producer thread is always stopped and joined before :func:`score_shared` returns.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from core.inference.anomaly.scoring import FrameScore, ScoringSpec, score_video
from core.jobs import ProgressCallback
from core.preprocessing.frames import resize_frame
from core.video.open import open_video
from core.video.source import VideoSource, convert_color

#: The signals :func:`score_shared` yields scores of.
PREDICTION, MOTION = 0, 1
#: Decoded frames (and motion scores) the producer may be ahead of the predictor by.
AHEAD = 64
#: Seconds a blocked producer waits before checking whether it was told to stop.
POLL_S = 0.05

_THREADS_LOCK = threading.Lock()
_THREADS_HELD = [0, 0]  # passes inside opencv_on_one_thread, and OpenCV's thread count before the first


@contextlib.contextmanager
def opencv_on_one_thread() -> Iterator[None]:
    """OpenCV's parallel loops on the calling thread only while inside (process-wide: the count before the
    first of overlapping passes is put back when the last one ends). Its results do not depend on it."""
    import cv2

    with _THREADS_LOCK:
        if _THREADS_HELD[0] == 0:
            _THREADS_HELD[1] = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _THREADS_HELD[0] += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS_HELD[0] -= 1
            if _THREADS_HELD[0] == 0:
                cv2.setNumThreads(_THREADS_HELD[1])


def can_share(path: str | Path, prediction: ScoringSpec, motion: ScoringSpec) -> bool:
    """Whether one decode of the video at ``path`` gives both models exactly the frames their own passes read:
    the motion statistics read gray frames; a gray predictor reads the same ones, and a colour predictor's frames
    and the gray ones convert from the same decoded colour frame of a video file (an image folder reads its
    images gray for gray frames, which need not equal its colour images turned gray)."""
    if motion.scorer != "motion" or motion.preprocess.color != "gray":
        return False
    return prediction.preprocess.color == "gray" or not Path(path).is_dir()


class _Stopped(Exception):
    """The calling thread stopped reading: the producer thread ends."""


class _SharedDecode:
    """The producer thread and the queue between it and the predictor (module doc)."""

    def __init__(self, source: VideoSource, prediction: ScoringSpec, motion: ScoringSpec, motion_model: Any,
                 motion_start: int, cancel: threading.Event | None) -> None:
        self.source, self.prediction, self.motion = source, prediction, motion
        self.motion_model, self.motion_start, self.cancel = motion_model, motion_start, cancel
        self.queue: queue.Queue[tuple[Any, ...]] = queue.Queue(maxsize=AHEAD)
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.motion_scores: list[FrameScore] = []  # received on the calling thread, not yet yielded

    # -- the producer thread --------------------------------------------------------------------
    def _put(self, item: tuple[Any, ...]) -> None:
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                self.queue.put(item, timeout=POLL_S)
                return
            except queue.Full:
                continue

    def _decoded(self, first: int, motion_first: int) -> Iterator[np.ndarray]:
        """Decode from the earlier of ``first`` (the predictor's) and ``motion_first`` on: each frame resized for
        the predictor goes to the queue from ``first`` on, and for the motion is yielded from ``motion_first``."""
        color = self.prediction.preprocess.color
        decode = "gray" if color == "gray" else "bgr"
        index = min(first, motion_first)
        for frame in self.source.iter_frames(index, color=decode, cancel=self.cancel):
            if index >= first:
                picture = frame if decode == color else convert_color(frame, color)
                self._put(("frame", index, resize_frame(picture, self.prediction.preprocess)))
            if index >= motion_first:
                gray = frame if decode == "gray" else convert_color(frame, "gray")
                yield resize_frame(gray, self.motion.preprocess)
            index += 1

    def _produce(self, first: int) -> None:
        from core.inference.anomaly.motion_scoring import score_motion

        try:
            for score in score_motion(self.motion_model, self.source, self.motion, False, self.motion_start, None,
                                      self.cancel, lambda motion_first: self._decoded(first, motion_first)):
                self._put(("motion", score))
            self._put(("end",))
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001 - raised again on the calling thread
            with contextlib.suppress(_Stopped):
                self._put(("error", exc))

    # -- the calling thread ---------------------------------------------------------------------
    def feed(self, first: int) -> Iterator[np.ndarray]:
        """The predictor's frames from ``first`` on (:data:`~core.inference.anomaly.scoring.FrameFeed`); starts
        the producer thread. Motion scores arriving meanwhile are kept for :meth:`take_motion`."""
        if self.thread is not None:
            raise RuntimeError("the shared decode feeds the predictor once")
        self.thread = threading.Thread(target=self._produce, args=(first,), name="shared-decode", daemon=True)
        self.thread.start()
        while True:
            item = self.queue.get()
            if item[0] == "frame":
                yield item[2]
            elif item[0] == "motion":
                self.motion_scores.append(item[1])
            elif item[0] == "end":
                return
            else:
                raise item[1]

    def take_motion(self) -> list[FrameScore]:
        scores, self.motion_scores = self.motion_scores, []
        return scores

    def close(self) -> None:
        """Stop the producer thread (if it still runs) and wait for it."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join()


def score_shared(predictor: Any, error_level: Any, motion_model: Any, path: str | Path, prediction: ScoringSpec,
                 motion: ScoringSpec, stride: int, batch_size: int, starts: tuple[int, int],
                 progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None) -> Iterator[tuple[int, FrameScore]]:
    """Yield ``(signal, score)`` for every frame of the video at ``path``: the predictor's scores (``signal``
    :data:`PREDICTION`) from frame ``starts[0]`` on and the motion statistics' (:data:`MOTION`) from ``starts[1]``
    on, from one decode (module doc). ``progress`` hears the predictor's frames done (the motion's are counted
    by the caller as they come); ``cancel`` stops both with :class:`~core.errors.Cancelled`. A motion score is
    yielded once the predictor has read its frame, so what was yielded when an error or a cancel stops the pass
    is, for each signal, every frame from its start up to some frame.
    """
    source = open_video(path)
    shared = _SharedDecode(source, prediction, motion, motion_model, starts[1], cancel)
    try:
        with opencv_on_one_thread():
            for score in score_video(predictor, source, prediction, stride, batch_size, start=starts[0],
                                     progress=progress, cancel=cancel, error_level=error_level,
                                     frames=shared.feed):
                for early in shared.take_motion():
                    yield MOTION, early
                yield PREDICTION, score
            for late in shared.take_motion():  # the feed read to the end: every motion score has come
                yield MOTION, late
    finally:
        shared.close()
        source.close()
