"""Streaming per-frame scores of a trained model: reconstruction error, or next-frame prediction error.

:func:`score_video` reads a video once, frame by frame, runs the model on clip windows in batches and
yields each frame's :class:`FrameScore` **as soon as its error is final**, so a chart grows while the video
is read and memory stays flat in the video's length (only the frames of the windows in flight are held).

The error ``e(t)`` of frame ``t`` is the mean squared error per pixel on the model's [0, 1] scale (frames
scaled from ``uint8`` by 1/255; a uint8-input model scales them in its first layer, the error is measured
the same way), averaged over channels: ``ScoringSpec.error = "mse"``. With ``"worst-patches"`` it is the
mean over the frame's worst patches instead (:func:`frame_error`). An error map is the squared error per
pixel, ``(height, width)`` float32 at the model's resolution, averaged over channels; with stride
averaging, a frame's error is that of its window-averaged map.

* **Reconstruction** (task ``anomaly``, the spatiotemporal autoencoders): clips of ``frames`` frames start
  every ``stride`` frames (``1 <= stride <= frames``; default ``frames``). Each frame's error is the mean of
  its errors in every window that covers it: ``stride = frames`` reconstructs each frame once, smaller
  strides average over ``frames / stride`` windows. A frame is final once the windows that start after it
  can no longer cover it. Frames after the last regular window (when ``frames - stride`` does not divide
  the video's length) are reconstructed by one last window ending at the last frame; earlier frames keep
  their values.
* **Prediction** (task ``predict``, the next-frame models): frame ``t`` is scored by how badly the model
  predicts it from the ``frames`` frames before it (the last output of the window ``t - frames .. t - 1``).
  The first ``frames`` frames have no such history: they are given the error of frame ``frames``, the first
  one predicted, and marked ``backfilled`` (so they neither stand out nor hide anything in sa(t), events or
  metrics). ``stride`` does not apply: every frame is predicted once.

* **Motion** (``ScoringSpec.scorer == "motion"``, the ``motion`` preset): no network; frame ``t``'s score is
  how unlikely the optical flow from ``t - 1`` to ``t`` is under the run's motion statistics, and its error map
  the per-cell unlikelihood (:mod:`core.inference.anomaly.motion_scoring`). Frame 0 carries frame 1's score.

A video with fewer frames than one clip (reconstruction) or than a clip plus one (prediction) cannot be
scored and raises :class:`~core.inference.errors.ScoreError` naming it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from core.inference.clip_input import (
    DEFAULT_BATCH_SIZE,
    ClipInput,
    declared_frames,
    resolve_stride,
    too_short,
)
from core.inference.errors import ScoreError
from core.jobs import ProgressCallback, check_cancelled, report
from core.preprocessing.frames import iter_prefetched, iter_resized
from core.video.open import open_video
from core.video.source import VideoSource

#: ``frames(first)``: a video's frames from frame ``first`` on, resized for the model (:func:`score_video`).
FrameFeed = Callable[[int], Iterable[np.ndarray]]

#: Tasks whose models give frames, and so can score frames.
SCORING_TASKS = ("anomaly", "predict")
#: How a frame's per-pixel squared errors become its error e(t) (:func:`frame_error`).
ERRORS = ("mse", "worst-patches")
#: What scores frames: a network's error, or the motion scorer (:attr:`ScoringSpec.scorer`).
SCORERS = ("model", "motion")
#: ``worst-patches``: square patches of 1/PATCH_DIVISOR of the frame's height; the worst 1/WORST_SHARE of them.
PATCH_DIVISOR = 8
WORST_SHARE = 16


def frame_error(error_map: np.ndarray, error: str = "mse") -> float:
    """A frame's error from its ``(H, W)`` squared errors: ``mse``, their mean over the frame, or
    ``worst-patches``, the mean over the worst sixteenth of the frame's square patches (side H / 8; a
    64x96 frame has 96 patches of 8x8, the 6 worst count).

    The mean over the frame grows with everything that moves, so a crowded normal scene can err as much as
    a quiet one with an intruder; the worst patches follow the least predictable object alone (Ped2's
    cyclists, cars, skaters are one object among walkers), which is what one threshold over many videos
    needs (docs/models.md measures both).
    """
    if error == "mse":
        return float(np.mean(error_map, dtype=np.float64))
    height, width = error_map.shape
    side = max(1, height // PATCH_DIVISOR)
    rows, cols = height // side, width // side
    patches = error_map[:rows * side, :cols * side].reshape(rows, side, cols, side).mean(axis=(1, 3), dtype=np.float64)
    worst = max(1, patches.size // WORST_SHARE)
    return float(np.mean(np.partition(patches.ravel(), patches.size - worst)[-worst:]))


@dataclass(frozen=True)
class ScoringSpec(ClipInput):
    """What :func:`score_video` needs to know of a model: its task, clip length and input.

    ``task`` is ``anomaly`` (reconstruct clips) or ``predict`` (predict the next frame); ``frames`` the
    clip length the model takes; ``preprocess`` how raw frames become its input (size, gray or RGB);
    ``input_dtype`` ``"uint8"`` (raw frames, the model scales them) or ``"float32"`` (frames in [0, 1]).
    Read from a run record or a model as :class:`~core.inference.clip_input.ClipInput` reads them.
    """

    TASKS: ClassVar[tuple[str, ...]] = SCORING_TASKS
    #: How each frame's squared errors become e(t): one of :data:`ERRORS` (:func:`frame_error`).
    error: str = "mse"
    #: The fingerprint of the error-level model the squared errors are divided by, ``""`` for none
    #: (:mod:`core.models.error_level`; a prediction model's run may have one, see :func:`score_video`).
    error_level: str = ""
    #: What gives the scores: ``"model"`` (a network's error, the module doc) or ``"motion"`` (the motion
    #: scorer's unlikelihood of each frame's optical flow, :mod:`core.inference.anomaly.motion_scoring`).
    scorer: str = "model"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.error not in ERRORS:
            raise ScoreError(f"frame error must be one of {', '.join(ERRORS)}, not {self.error!r}")
        if self.scorer not in SCORERS:
            raise ScoreError(f"scorer must be one of {', '.join(SCORERS)}, not {self.scorer!r}")
        if self.preprocess.signal != "frames":
            raise ScoreError(f"a model of {self.preprocess.signal} maps does not score frames: scoring compares a "
                             "model's frames with the real ones")

    @classmethod
    def from_run(cls, spec: Any, data: Any = None) -> ScoringSpec:
        """As :meth:`ClipInput.from_run`, with the frame error the run recommends (``data["scoring"]``,
        written by ``framewatch export-run --error``), ``mse`` if none."""
        import dataclasses

        found = super().from_run(spec, data)
        error = ((data or {}).get("scoring") or {}).get("error", "mse")
        scorer = "motion" if spec.get("family") == "motion" else "model"
        return dataclasses.replace(found, error=str(error), scorer=scorer)

    def wrong_task(self) -> str:
        return (f"a {self.task} model does not score frames: scoring needs an anomaly "
                "(reconstruction) or predict (next-frame) model")

    @property
    def backfilled_frames(self) -> int:
        """Frames at the start of every video that carry the first predicted frame's error (``backfilled``):
        the clip length for a prediction model, none for reconstruction, frame 0 for the motion scorer."""
        if self.scorer == "motion":
            return 1
        return self.frames if self.task == "predict" else 0

    def params(self, stride: int) -> dict[str, Any]:
        """What scores depend on besides the model and the video: the key of cached scores."""
        params = {"task": self.task, "frames": self.frames, "stride": stride, "input_dtype": self.input_dtype,
                  "preprocess": self.preprocess.to_dict(), "error": self.error}
        if self.error_level:
            params["error_level"] = self.error_level
        if self.scorer != "model":
            params["scorer"] = self.scorer
        return params


@dataclass(frozen=True)
class FrameScore:
    """One frame's score: ``error`` e(t), in squared [0, 1] units (the spec's frame error, :func:`frame_error`).

    ``error_map`` is ``(height, width)`` float32 (asked for with ``error_maps=True``, else ``None``);
    ``windows`` how many clip windows the value averages; ``backfilled`` True for the first frames of a
    prediction model, which have no history and carry the first predicted frame's error.
    """

    index: int
    error: float
    error_map: np.ndarray | None = None
    windows: int = 1
    backfilled: bool = False


def score_video(
    model: Any,
    source: VideoSource | str | Path,
    spec: ScoringSpec,
    stride: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    error_maps: bool = False,
    start: int = 0,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    error_level: Any = None,
    prefetch: int = 0,
    frames: FrameFeed | None = None,
) -> Iterator[FrameScore]:
    """Yield a :class:`FrameScore` per frame, in frame order, each as soon as it is final (module doc).

    ``model`` is a Keras model (anything with ``predict_on_batch``); ``source`` a
    :class:`~core.video.VideoSource` or a path; ``batch_size`` windows go to the model per call. ``start``
    resumes a video scored part way: frames before it are read again only as far as the windows of the
    frames from ``start`` need, and the frames yielded are those a full run gives from ``start`` on.
    ``progress`` receives frames done (of the frame count the header declares); ``cancel`` stops between
    batches with :class:`~core.errors.Cancelled`.

    ``error_level``: a prediction model's error-level model (:mod:`core.models.error_level`, a run's
    ``error_level.keras``). Each frame's squared errors are then divided, pixel by pixel, by the squared
    error it expects on normal footage for that input clip, so the error map and e(t) are in multiples of
    the normal error rather than in squared [0, 1] units. Reconstruction models take none.

    ``frames``: where the frames come from instead of decoding ``source`` (which then only names the video and
    gives its declared frame count): ``frames(first)`` yields them from frame ``first`` on, already in the spec's
    colour and size, as :func:`~core.preprocessing.frames.iter_resized` gives them. The fused scorer feeds the
    predictor and the motion scorer from one decode so (:mod:`core.inference.anomaly.shared_decode`).

    ``prefetch``: frames decoded ahead on a background thread while the model runs
    (:func:`~core.preprocessing.frames.iter_prefetched`, e.g. :data:`~core.preprocessing.frames.PREFETCH_FRAMES`;
    the same frames, the same scores); 0 (the default: ``python -m bench runtime`` measured about 1% gained on
    2 cores, which the model mostly fills) decodes on the calling thread. Not with ``frames``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ScoreError(f"batch size must be a whole number of windows >= 1, got {batch_size!r}")
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ScoreError(f"start frame must be a frame number >= 0, got {start!r}")
    stride = resolve_stride(spec, stride)
    owned = not isinstance(source, VideoSource)
    video = open_video(source) if owned else source
    try:
        if spec.scorer == "motion":
            from core.inference.anomaly.motion_scoring import score_motion

            if error_level is not None:
                raise ScoreError(f"{video.path}: an error level applies to next-frame prediction models, not to "
                                 "the motion scorer")
            yield from score_motion(model, video, spec, error_maps, start, progress, cancel, frames)
        elif spec.task == "predict":
            yield from _score_prediction(model, video, spec, batch_size, error_maps, start, progress, cancel,
                                         error_level, frames, prefetch)
        elif error_level is not None:
            raise ScoreError(f"{video.path}: an error level applies to next-frame prediction models, not to a "
                             f"{spec.task} model")
        else:
            yield from _score_reconstruction(model, video, spec, stride, batch_size, error_maps, start,
                                             progress, cancel, frames, prefetch)
    finally:
        if owned:
            video.close()


def squared_errors(output: np.ndarray, target_uint8: np.ndarray) -> np.ndarray:
    """Per-pixel squared error averaged over channels: ``(..., H, W)`` float32 in [0, 1] units."""
    target = target_uint8.astype(np.float32) * np.float32(1.0 / 255.0)
    return np.mean(np.square(np.asarray(output, dtype=np.float32) - target), axis=-1)


def _run(model: Any, batch: np.ndarray, source: VideoSource, every_frame: bool = True) -> np.ndarray:
    """The model's output for a clip batch; :class:`ScoreError` unless it is frames of the input's size.

    ``every_frame``: one output frame per input frame (reconstruction); otherwise (prediction) at least
    one, the last being the prediction of the frame after the clip (a fixed-window predictor such as the
    ``future-frame`` preset gives only that one).
    """
    output = np.asarray(model.predict_on_batch(batch))
    frames_ok = output.shape[1] == batch.shape[1] if every_frame else 1 <= output.shape[1] <= batch.shape[1]
    if (output.ndim != batch.ndim or output.shape[0] != batch.shape[0] or not frames_ok
            or output.shape[-3:-1] != batch.shape[-3:-1]):
        raise ScoreError(f"{source.path}: the model gave output {output.shape} for clips {batch.shape}: "
                         "it does not give frames back, so it cannot score frames")
    return output


class _Accumulator:
    """Sums of per-window errors (or error maps) of the frames not yet final, from frame ``first`` on."""

    def __init__(self, first: int, maps: bool, error: str = "mse") -> None:
        self.first = first
        self.keep_maps = maps
        self.error = error
        self.maps = maps or error != "mse"  # a frame's error is then that of its window-averaged map
        self.sums: deque[Any] = deque()
        self.counts: deque[int] = deque()

    def add(self, start: int, squared: np.ndarray, only_from: int = 0) -> None:
        """Add one window's ``(frames, H, W)`` squared errors for frames ``start ..``; frames before
        ``only_from`` (and already final ones) are skipped."""
        for offset in range(squared.shape[0]):
            t = start + offset
            if t < max(self.first, only_from):
                continue
            while self.first + len(self.sums) <= t:
                self.sums.append(0.0)
                self.counts.append(0)
            i = t - self.first
            value = squared[offset] if self.maps else float(np.mean(squared[offset], dtype=np.float64))
            self.sums[i] = self.sums[i] + value
            self.counts[i] += 1

    def pop_until(self, stop: int, skip_before: int) -> Iterator[FrameScore]:
        """Final frames ``first .. stop - 1`` (those before ``skip_before`` are dropped, not yielded)."""
        while self.sums and self.first < stop:
            total, count = self.sums.popleft(), self.counts.popleft()
            t = self.first
            self.first += 1
            if t < skip_before or count == 0:
                continue
            if self.maps:
                error_map = (total / count).astype(np.float32)
                yield FrameScore(t, frame_error(error_map, self.error), error_map if self.keep_maps else None, count)
            else:
                yield FrameScore(t, total / count, None, count)


def _resized(source: VideoSource, spec: ScoringSpec, frames: FrameFeed | None, first: int,
             cancel: threading.Event | None, prefetch: int = 0) -> Iterator[np.ndarray]:
    """The frames a model reads from frame ``first`` on: from ``frames`` if given, else decoded from ``source``,
    ``prefetch`` frames ahead on a thread (0: here)."""
    if frames is not None:
        return iter(frames(first))
    resized = iter_resized(source, spec.preprocess, first, cancel=cancel)
    return iter_prefetched(resized, prefetch, cancel) if prefetch > 0 else resized


def _score_reconstruction(model, source, spec, stride, batch_size, error_maps, start, progress, cancel,
                          frames=None, prefetch=0):
    length = spec.frames
    # the first window that covers frame `start`: the smallest multiple of stride >= start - length + 1
    first_window = max(0, -(-(start - length + 1) // stride) * stride)
    # read from the first frame of a clip ending at `start`, not from `first_window`: a start inside the
    # video's last clip is covered by the tail window ending at the last frame, which needs `length` frames
    read_from = min(first_window, max(0, start - length + 1))
    total = declared_frames(source)
    recent: deque[np.ndarray] = deque(maxlen=length)
    windows: list[np.ndarray] = []
    window_starts: list[int] = []
    pending = _Accumulator(first_window, error_maps, spec.error)
    next_window = first_window
    last_run = None  # start of the last window run
    count = read_from

    def run_batch() -> Iterator[FrameScore]:
        nonlocal last_run
        check_cancelled(cancel, "scoring")
        batch = np.stack(windows)
        squared = squared_errors(_run(model, spec.model_input(batch), source), batch)
        for window_start, errors in zip(window_starts, squared, strict=True):
            pending.add(window_start, errors)
        last_run = window_starts[-1]
        windows.clear()
        window_starts.clear()
        report(progress, last_run + stride, total, "scoring")
        yield from pending.pop_until(last_run + stride, start)

    for frame in _resized(source, spec, frames, read_from, cancel, prefetch):
        recent.append(frame)
        count += 1
        if count - length == next_window:
            windows.append(np.stack(recent))
            window_starts.append(next_window)
            next_window += stride
            if len(windows) == batch_size:
                yield from run_batch()
    if count < length:
        raise too_short(source, count, length, f"to reconstruct one clip of {length}")
    if windows:
        yield from run_batch()
    covered = (last_run + length) if last_run is not None else first_window
    if covered < count:  # frames no regular window reached: one last window ending at the last frame
        check_cancelled(cancel, "scoring")
        tail = np.stack(recent)[None]
        squared = squared_errors(_run(model, spec.model_input(tail), source), tail)
        pending.add(count - length, squared[0], only_from=covered)
    report(progress, count, count, "scoring")
    yield from pending.pop_until(count, start)


def _relative_errors(error_level: Any, clips: np.ndarray, squared: np.ndarray, source: VideoSource) -> np.ndarray:
    """``squared`` ``(clips, H, W)`` divided by the error level expected for each clip."""
    from core.models.error_level import expected_squared_error

    try:
        expected = expected_squared_error(error_level, clips)
    except ValueError as exc:  # Keras refuses clips of another size than the level model's
        raise ScoreError(f"{source.path}: the error-level model does not take this model's clips "
                         f"{clips.shape[1:]}: it was not made for this model ({exc})") from exc
    if expected.shape != squared.shape:
        raise ScoreError(f"{source.path}: the error-level model gave maps {expected.shape} for errors "
                         f"{squared.shape}: it was not made for this model")
    return squared / expected


def _score_prediction(model, source, spec, batch_size, error_maps, start, progress, cancel, error_level=None,
                      frames=None, prefetch=0):
    length = spec.frames
    # frame t needs frames t - length .. t - 1; the first `length` frames are backfilled from frame `length`
    read_from = 0 if start <= length else start - length
    total = declared_frames(source)
    recent: deque[np.ndarray] = deque(maxlen=length)
    windows: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    indices: list[int] = []
    count = read_from

    def run_batch() -> Iterator[FrameScore]:
        check_cancelled(cancel, "scoring")
        clips = np.stack(windows)
        output = _run(model, spec.model_input(clips), source, every_frame=False)
        squared = squared_errors(output[:, -1], np.stack(targets))
        if error_level is not None:
            squared = _relative_errors(error_level, clips, squared, source)
        for t, error_map in zip(indices, squared, strict=True):
            error = frame_error(error_map, spec.error)
            kept = error_map.astype(np.float32) if error_maps else None
            if t == length:  # the first predicted frame stands in for the frames before it
                for early in range(start, length):
                    yield FrameScore(early, error, kept, 0, backfilled=True)
            if t >= start:
                yield FrameScore(t, error, kept, 1)
        report(progress, indices[-1] + 1, total, "scoring")
        windows.clear()
        targets.clear()
        indices.clear()

    for frame in _resized(source, spec, frames, read_from, cancel, prefetch):
        if len(recent) == length:
            windows.append(np.stack(recent))
            targets.append(frame)
            indices.append(count)
            if len(windows) == batch_size:
                yield from run_batch()
        recent.append(frame)
        count += 1
    if count <= length:
        raise too_short(source, count, length + 1, f"to predict one frame from {length}")
    if windows:
        yield from run_batch()
    report(progress, count, count, "scoring")


