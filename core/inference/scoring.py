"""Streaming per-frame scores of a trained model: reconstruction error, or next-frame prediction error.

:func:`score_video` reads a video once, frame by frame, runs the model on clip windows in batches and
yields each frame's :class:`FrameScore` **as soon as its error is final**, so a chart grows while the video
is read and memory stays flat in the video's length (only the frames of the windows in flight are held).

The error ``e(t)`` of frame ``t`` is the mean squared error per pixel on the model's [0, 1] scale (frames
scaled from ``uint8`` by 1/255; a uint8-input model scales them in its first layer, the error is measured
the same way), averaged over channels. An error map is the same squared error per pixel, ``(height,
width)`` float32 at the model's resolution, averaged over channels.

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

A video with fewer frames than one clip (reconstruction) or than a clip plus one (prediction) cannot be
scored and raises :class:`~core.inference.errors.ScoreError` naming it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.inference.errors import ScoreError
from core.jobs import ProgressCallback, check_cancelled, report
from core.preprocessing.frames import iter_resized
from core.preprocessing.spec import PreprocessSpec
from core.video.open import open_video
from core.video.source import VideoSource

#: Tasks whose models give frames, and so can score frames.
SCORING_TASKS = ("anomaly", "predict")
#: Clip windows per model call unless told otherwise.
DEFAULT_BATCH_SIZE = 8


@dataclass(frozen=True)
class ScoringSpec:
    """What :func:`score_video` needs to know of a model: its task, clip length and input.

    ``task`` is ``anomaly`` (reconstruct clips) or ``predict`` (predict the next frame); ``frames`` the
    clip length the model takes; ``preprocess`` how raw frames become its input (size, gray or RGB);
    ``input_dtype`` ``"uint8"`` (raw frames, the model scales them) or ``"float32"`` (frames in [0, 1]).
    """

    task: str
    frames: int
    preprocess: PreprocessSpec
    input_dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.task not in SCORING_TASKS:
            raise ScoreError(f"a {self.task} model does not score frames: scoring needs an anomaly "
                             "(reconstruction) or predict (next-frame) model")
        if isinstance(self.frames, bool) or not isinstance(self.frames, int) or self.frames < 1:
            raise ScoreError(f"clip length must be a number of frames >= 1, got {self.frames!r}")
        if self.input_dtype not in ("uint8", "float32"):
            raise ScoreError(f"model input must be uint8 or float32 frames, got {self.input_dtype!r}")
        if self.preprocess.subtract_mean:
            raise ScoreError("models trained on mean-subtracted frames cannot be scored yet (the mean frame "
                             "is not stored with the run)")

    @classmethod
    def from_run(cls, spec: Mapping[str, Any], data: Mapping[str, Any] | None = None) -> ScoringSpec:
        """From a run record's ``spec`` and ``data`` (the ``preprocess`` options training used, if any)."""
        try:
            preprocess = dict((data or {}).get("preprocess") or {})
            preprocess.update(height=int(spec["height"]), width=int(spec["width"]),
                              grayscale=int(spec.get("channels", 1)) == 1)
            return cls(task=str(spec["task"]), frames=int(spec["frames"]),
                       preprocess=PreprocessSpec.from_dict(preprocess),
                       input_dtype=str(spec.get("input_dtype", "float32")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ScoreError(f"the run's model spec cannot be scored with: {type(exc).__name__}: {exc}") from exc

    @classmethod
    def from_model(cls, model: Any, task: str) -> ScoringSpec:
        """From a Keras model's input ``(None, frames, height, width, channels)`` and its dtype."""
        shape = tuple(model.input_shape)
        if len(shape) != 5 or any(not isinstance(v, int) for v in shape[1:]):
            raise ScoreError(f"model input {shape} is not clips of frames (None, frames, height, width, channels)")
        _, frames, height, width, channels = shape
        dtype = str(getattr(model.inputs[0], "dtype", "float32"))
        return cls(task=task, frames=frames,
                   preprocess=PreprocessSpec(height=height, width=width, grayscale=channels == 1),
                   input_dtype="uint8" if "uint8" in dtype else "float32")

    @property
    def backfilled_frames(self) -> int:
        """Frames at the start of every video that carry the first predicted frame's error (``backfilled``):
        the clip length for a prediction model, none for reconstruction."""
        return self.frames if self.task == "predict" else 0

    def params(self, stride: int) -> dict[str, Any]:
        """What scores depend on besides the model and the video: the key of cached scores."""
        return {"task": self.task, "frames": self.frames, "stride": stride, "input_dtype": self.input_dtype,
                "preprocess": self.preprocess.to_dict(), "error": "mse"}


@dataclass(frozen=True)
class FrameScore:
    """One frame's score: ``error`` e(t), the mean squared error per pixel in [0, 1] units.

    ``error_map`` is ``(height, width)`` float32 (asked for with ``error_maps=True``, else ``None``);
    ``windows`` how many clip windows the value averages; ``backfilled`` True for the first frames of a
    prediction model, which have no history and carry the first predicted frame's error.
    """

    index: int
    error: float
    error_map: np.ndarray | None = None
    windows: int = 1
    backfilled: bool = False


def resolve_stride(spec: ScoringSpec, stride: int | None) -> int:
    """The window stride to use: ``frames`` by default; 1 for prediction; :class:`ScoreError` out of range."""
    if spec.task == "predict":
        return 1
    if stride is None:
        return spec.frames
    if isinstance(stride, bool) or not isinstance(stride, int) or not 1 <= stride <= spec.frames:
        raise ScoreError(f"window stride must be a whole number of frames from 1 to the clip length "
                         f"{spec.frames}, got {stride!r} (a larger stride would leave frames unscored)")
    return stride


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
) -> Iterator[FrameScore]:
    """Yield a :class:`FrameScore` per frame, in frame order, each as soon as it is final (module doc).

    ``model`` is a Keras model (anything with ``predict_on_batch``); ``source`` a
    :class:`~core.video.VideoSource` or a path; ``batch_size`` windows go to the model per call. ``start``
    resumes a video scored part way: frames before it are read again only as far as the windows of the
    frames from ``start`` need, and the frames yielded are those a full run gives from ``start`` on.
    ``progress`` receives frames done (of the frame count the header declares); ``cancel`` stops between
    batches with :class:`~core.errors.Cancelled`.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ScoreError(f"batch size must be a whole number of windows >= 1, got {batch_size!r}")
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ScoreError(f"start frame must be a frame number >= 0, got {start!r}")
    stride = resolve_stride(spec, stride)
    owned = not isinstance(source, VideoSource)
    video = open_video(source) if owned else source
    try:
        if spec.task == "predict":
            yield from _score_prediction(model, video, spec, batch_size, error_maps, start, progress, cancel)
        else:
            yield from _score_reconstruction(model, video, spec, stride, batch_size, error_maps, start,
                                             progress, cancel)
    finally:
        if owned:
            video.close()


def _model_input(batch: np.ndarray, spec: ScoringSpec) -> np.ndarray:
    """A uint8 clip batch ``(clips, frames, H, W, C)`` as the model takes it (uint8, or float32 in [0, 1])."""
    if spec.input_dtype == "uint8":
        return batch
    return batch.astype(np.float32) * np.float32(1.0 / 255.0)


def _squared_error(output: np.ndarray, target_uint8: np.ndarray) -> np.ndarray:
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


def _too_short(source: VideoSource, frames: int, needed: int, what: str) -> ScoreError:
    return ScoreError(f"{source.path}: {frames} frames, fewer than the {needed} needed {what}")


def _declared(source: VideoSource) -> int | None:
    try:
        return int(source.metadata.declared_frame_count) or None
    except (AttributeError, TypeError, ValueError):
        return None


class _Accumulator:
    """Sums of per-window errors (or error maps) of the frames not yet final, from frame ``first`` on."""

    def __init__(self, first: int, maps: bool) -> None:
        self.first = first
        self.maps = maps
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
                yield FrameScore(t, float(np.mean(error_map, dtype=np.float64)), error_map, count)
            else:
                yield FrameScore(t, total / count, None, count)


def _score_reconstruction(model, source, spec, stride, batch_size, error_maps, start, progress, cancel):
    length = spec.frames
    # the first window that covers frame `start`: the smallest multiple of stride >= start - length + 1
    first_window = max(0, -(-(start - length + 1) // stride) * stride)
    total = _declared(source)
    recent: deque[np.ndarray] = deque(maxlen=length)
    windows: list[np.ndarray] = []
    window_starts: list[int] = []
    pending = _Accumulator(first_window, error_maps)
    next_window = first_window
    last_run = None  # start of the last window run
    count = first_window

    def run_batch() -> Iterator[FrameScore]:
        nonlocal last_run
        check_cancelled(cancel, "scoring")
        batch = np.stack(windows)
        squared = _squared_error(_run(model, _model_input(batch, spec), source), batch)
        for window_start, errors in zip(window_starts, squared, strict=True):
            pending.add(window_start, errors)
        last_run = window_starts[-1]
        windows.clear()
        window_starts.clear()
        report(progress, last_run + stride, total, "scoring")
        yield from pending.pop_until(last_run + stride, start)

    for frame in iter_resized(source, spec.preprocess, first_window, cancel=cancel):
        recent.append(frame)
        count += 1
        if count - length == next_window:
            windows.append(np.stack(recent))
            window_starts.append(next_window)
            next_window += stride
            if len(windows) == batch_size:
                yield from run_batch()
    if count < length:
        raise _too_short(source, count, length, f"to reconstruct one clip of {length}")
    if windows:
        yield from run_batch()
    covered = (last_run + length) if last_run is not None else first_window
    if covered < count:  # frames no regular window reached: one last window ending at the last frame
        check_cancelled(cancel, "scoring")
        tail = np.stack(recent)[None]
        squared = _squared_error(_run(model, _model_input(tail, spec), source), tail)
        pending.add(count - length, squared[0], only_from=covered)
    report(progress, count, count, "scoring")
    yield from pending.pop_until(count, start)


def _score_prediction(model, source, spec, batch_size, error_maps, start, progress, cancel):
    length = spec.frames
    # frame t needs frames t - length .. t - 1; the first `length` frames are backfilled from frame `length`
    read_from = 0 if start <= length else start - length
    total = _declared(source)
    recent: deque[np.ndarray] = deque(maxlen=length)
    windows: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    indices: list[int] = []
    count = read_from

    def run_batch() -> Iterator[FrameScore]:
        check_cancelled(cancel, "scoring")
        clips = np.stack(windows)
        output = _run(model, _model_input(clips, spec), source, every_frame=False)
        squared = _squared_error(output[:, -1], np.stack(targets))
        for t, error_map in zip(indices, squared, strict=True):
            error = float(np.mean(error_map, dtype=np.float64))
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

    for frame in iter_resized(source, spec.preprocess, read_from, cancel=cancel):
        if len(recent) == length:
            windows.append(np.stack(recent))
            targets.append(frame)
            indices.append(count)
            if len(windows) == batch_size:
                yield from run_batch()
        recent.append(frame)
        count += 1
    if count <= length:
        raise _too_short(source, count, length + 1, f"to predict one frame from {length}")
    if windows:
        yield from run_batch()
    report(progress, count, count, "scoring")


