"""A next-frame run rolled out over a video: the run's model, the video's frames at its size, the result.

What ``framewatch predict`` and the desktop app's predicted-frames view share:

* :func:`predict_run` finds a run (a name under ``<project>/runs/`` or a run folder), refuses one that is not
  a next-frame (``predict``) model, and says how its frames are prepared (a :class:`RolloutRun`: the run's
  model file, and in ``spec.preprocess`` the :class:`~core.preprocessing.PreprocessSpec` training used).
* :func:`rollout_video` reads ``given`` frames of a video from ``start`` at that size (and the real frames
  after them, where the video has them), lets :func:`~core.inference.rollout.rollout` predict ``future``
  frames from them and returns a :class:`VideoRollout`: the real frames beside the predicted ones.

Frames in a :class:`VideoRollout` are ``(height, width, channels)`` float32 in [0, 1], channels 1 (gray)
or 3 (RGB), at the run's frame size.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.inference.clip_input import ClipInput
from core.inference.errors import ScoreError
from core.inference.rollout.rollout import RolloutError, rollout
from core.jobs import ProgressCallback, check_cancelled
from core.preprocessing import PreprocessSpec
from core.runs import RunModel


@dataclass(frozen=True)
class RolloutRun(RunModel):
    """A next-frame run's model (:class:`~core.runs.model.RunModel`) and what its clips are (``spec``)."""

    spec: ClipInput


def predict_run(project_folder: str | Path, run: str | Path, checkpoint: str = "best") -> RolloutRun:
    """Run ``run`` (a name under ``<project>/runs/`` or a run folder) as a next-frame model: its folder,
    record, the ``checkpoint`` model file (``best``: the run's model, as scoring uses; ``last``: its last
    epoch's, :func:`~core.runs.model.model_file`) and what its frames are (``spec.preprocess``: size, gray
    or RGB), read as scoring reads them.

    :class:`~core.runs.errors.RunError` for an unknown run or one without that model file;
    :class:`~core.inference.rollout.rollout.RolloutError` for a run of another task or one trained on
    mean-subtracted frames, naming the run folder.
    """
    return _rollout_run(RunModel.open(project_folder, run, checkpoint))


def predict_run_folder(run_dir: str | Path, checkpoint: str = "best") -> RolloutRun:
    """The next-frame run in folder ``run_dir`` (no project), refused as :func:`predict_run` refuses."""
    return _rollout_run(RunModel.of(run_dir, checkpoint))


def _rollout_run(found: RunModel) -> RolloutRun:
    record = found.record
    if record.task != "predict":
        raise RolloutError(f"{found.run_dir}: run {record.run_id!r} is a model for the {record.task!r} task, "
                           "not next-frame prediction (train one with --task predict)")
    try:
        spec = ClipInput.from_run(record.spec, record.data)
    except ScoreError as exc:
        raise RolloutError(f"{found.run_dir}: {exc}") from exc
    return RolloutRun(found.run_dir, record, found.model_path, found.error_level_path, spec)


@dataclass(frozen=True)
class VideoRollout:
    """``future`` frames predicted from the ``given`` real frames ``[start, start + given)`` of a video.

    ``predicted``: ``(future, H, W, C)`` float32 in [0, 1], step ``k`` (0-based) standing for frame
    ``first_future + k``. ``truth``: the real frames of those steps, ``(steps_with_truth, H, W, C)``
    float32 in [0, 1]: fewer than ``future`` when the video ends first. ``frame_count``: the video's
    frames; ``fps``: its frame rate.
    """

    video: Path
    start: int
    given: int
    predicted: np.ndarray
    truth: np.ndarray
    frame_count: int
    fps: float

    @property
    def future(self) -> int:
        return len(self.predicted)

    @property
    def first_future(self) -> int:
        """The video frame the first predicted frame stands for."""
        return self.start + self.given

    def truth_at(self, step: int) -> np.ndarray | None:
        """The real frame of ``step`` (0-based), or ``None`` past the end of the video."""
        return self.truth[step] if step < len(self.truth) else None

    def errors(self) -> np.ndarray:
        """``|truth - predicted|`` per step that has a real frame: ``(steps_with_truth, H, W, C)`` float32."""
        return np.abs(self.truth - self.predicted[:len(self.truth)])

    def counter(self) -> list[str]:
        """The label of each step in an export: ``+1  frame 12``."""
        return [f"+{k + 1}  frame {self.first_future + k}" for k in range(self.future)]


def rollout_video(
    model: Any,
    video: str | Path,
    preprocess: PreprocessSpec,
    start: int,
    given: int,
    future: int,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> VideoRollout:
    """Predict ``future`` frames of ``video`` from its ``given`` frames from ``start``, at ``preprocess``'s size.

    ``model`` is a loaded next-frame model (keep it: a second rollout of the same model object reuses its
    compiled step). Frames reach the model as its input dtype asks (``uint8``, or float32 in [0, 1]).
    :class:`RolloutError` names the video when ``start + given`` is past its end; ``cancel`` stops between
    frames with :class:`~core.errors.Cancelled`.
    """
    from core.preprocessing.frames import iter_resized, to_float
    from core.video.open import open_video

    if given < 1 or future < 1 or start < 0:
        raise RolloutError(f"start must be >= 0 and given and future frames >= 1, not {start}, {given} and {future}")
    with open_video(video) as source:
        total = source.frame_count
        first_future = start + given
        if first_future > total:
            raise RolloutError(f"{video}: frames {start}..{first_future - 1} are past the end "
                               f"(the video has {total} frames)")
        stop = min(total, first_future + future)
        real = list(iter_resized(source, preprocess, start, stop, cancel=cancel))
        fps = float(source.fps)
        path = Path(source.path)
    check_cancelled(cancel, "rollout")
    raw = "uint8" in str(model.inputs[0].dtype)
    frames = np.stack(real[:given])
    frames = frames if raw else np.stack([to_float(f) for f in frames])
    predicted = rollout(model, frames, future, progress=progress, cancel=cancel)
    truth = np.stack([to_float(f) for f in real[given:]]) if len(real) > given else predicted[:0].copy()
    return VideoRollout(path, start, given, predicted, truth, total, fps)


def rollout_frames(
    model: Any,
    sequence: np.ndarray,
    given: int,
    future: int,
    source: str | Path,
    fps: float,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> VideoRollout:
    """Predict ``future`` frames from the first ``given`` of ``sequence``, a ``(frames, H, W, C)`` ``uint8``
    sequence already at the model's frame size; its frames after them are the truth (as many as it has).

    ``source`` names the sequence in the result (its ``video``), ``fps`` is the rate an export plays at.
    """
    from core.preprocessing.frames import to_float

    sequence = np.asarray(sequence)
    if sequence.ndim != 4 or sequence.dtype != np.uint8:
        raise RolloutError(f"{source}: a sequence must be uint8 (frames, height, width, channels), "
                           f"not {sequence.dtype} {sequence.shape}")
    if given < 1 or future < 1 or given > len(sequence):
        raise RolloutError(f"{source}: given must be 1..{len(sequence)} frames and future >= 1, not {given} and {future}")
    raw = "uint8" in str(model.inputs[0].dtype)
    frames = sequence[:given] if raw else np.stack([to_float(f) for f in sequence[:given]])
    predicted = rollout(model, frames, future, progress=progress, cancel=cancel)
    real = sequence[given:given + future]
    truth = np.stack([to_float(f) for f in real]) if len(real) else predicted[:0].copy()
    return VideoRollout(Path(source), 0, given, predicted, truth, len(sequence), float(fps))
