"""What a Ray worker runs: one run's model, loaded once, scoring segments and writing their scores.

:class:`SegmentWorker` is a plain class; :mod:`core.distributed.archive` makes it a Ray actor. It loads the
run's model (and error-level model) on its first segment, through
:meth:`~core.inference.anomaly.project_scoring.ScoringRun.load_models` (``safe_mode=True``, checked to be the
very bytes the driver fingerprinted), decodes its segments itself from the video files (so only paths travel
over the network, never frames) and writes each segment's scores to the project's segment cache before it
answers: a driver that dies meanwhile loses nothing a worker finished. A fused run's two signals are one task
per segment where both are to score: the worker decodes the segment once for both
(:func:`score_shared_segment`), as a scoring in one process does.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.distributed.segments import Segment, SegmentCache
from core.inference.anomaly.score_cache import ScoreKey
from core.inference.anomaly.scoring import score_video
from core.inference.errors import ScoreError


def _take(scores: list[float], score: Any, segment: Segment, video_path: str | Path) -> bool:
    """Add ``score`` to ``scores`` if it is inside ``segment`` (checked to be the frame due); False past it."""
    if segment.end is not None and score.index >= segment.end:
        return False
    if score.index != segment.start + len(scores):
        raise ScoreError(f"{video_path}: scoring gave frame {score.index} where frame "
                         f"{segment.start + len(scores)} was due (segment {segment.label()})")
    scores.append(score.error)
    return True


def score_segment(model: Any, video_path: str | Path, run: Any, segment: Segment, stride: int, batch_size: int,
                  error_level: Any = None) -> np.ndarray:
    """The scores (float32 ``(frames,)``) of ``segment``'s frames of the video, each what a single pass over
    the whole video gives it: :func:`score_video` from the segment's first frame (it reads back the frames the
    model needs before it), stopped after the segment's last frame. Fewer frames than the segment holds when
    the video ends inside it."""
    scores: list[float] = []
    for score in score_video(model, video_path, run.spec, stride, batch_size, start=segment.start,
                             error_level=error_level):
        if not _take(scores, score, segment, video_path):
            break
    return np.asarray(scores, np.float32)


def score_shared_segment(models: tuple[tuple[Any, Any], tuple[Any, Any]], video_path: str | Path,
                         runs: tuple[Any, Any], segment: Segment, stride: int,
                         batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """A fused run's prediction and motion scores of ``segment`` (as :func:`score_segment` gives each) from one
    decode (:func:`~core.inference.anomaly.shared_decode.score_shared`), stopped once both are past its end.
    ``models``: the loaded (model, error level) of the prediction and the motion part, ``runs`` their runs."""
    from core.inference.anomaly.shared_decode import MOTION, score_shared

    (predictor, error_level), (motion_model, _) = models
    signals: tuple[list[float], list[float]] = ([], [])
    open_signals = {0, 1}
    for signal, score in score_shared(predictor, error_level, motion_model, video_path, runs[0].spec, runs[1].spec,
                                      stride, batch_size, (segment.start, segment.start)):
        index = 1 if signal == MOTION else 0
        if index in open_signals and not _take(signals[index], score, segment, video_path):
            open_signals.discard(index)
            if not open_signals:
                break  # closes the shared decode
    return np.asarray(signals[0], np.float32), np.asarray(signals[1], np.float32)


@dataclass(frozen=True)
class SegmentTask:
    """One segment to score: the video (path, id, the score cache key of its scores) and the frame range."""

    video_path: str
    video_id: str
    key: ScoreKey
    segment: Segment
    #: which of the worker's runs scores it: 0, or a fused run's motion signal (1) beside its prediction (0)
    part: int = 0
    #: the motion signal's key when this task is a fused run's two signals of the segment, from one decode
    #: (``part`` is then 0, the prediction's)
    shared_key: ScoreKey | None = None

    @property
    def parts(self) -> tuple[tuple[int, ScoreKey], ...]:
        """``(part, key)`` of each signal the task scores."""
        return ((0, self.key), (1, self.shared_key)) if self.shared_key is not None else ((self.part, self.key),)


@dataclass(frozen=True)
class SegmentDone:
    """A scored segment: how many frames, by which worker process, in how many wall-clock seconds and CPU
    seconds of the worker's process, all its threads (model load included for a worker's first)."""

    task: SegmentTask
    frames: int
    pid: int
    seconds: float
    cpu_seconds: float = 0.0


class SegmentWorker:
    """Scores segments with ``run``'s model for the project at ``project_folder`` (the same path on every
    node); ``run`` is one run or a sequence of them (a fused run's prediction and motion parts), a task's
    ``part`` saying which; each model is loaded on its first segment. ``threads``: the CPU threads TensorFlow
    may use in this worker (its share of the machine)."""

    def __init__(self, project_folder: str, run: Any, stride: int, batch_size: int, threads: int = 1) -> None:
        self.project_folder = project_folder
        self.runs = tuple(run) if isinstance(run, (list, tuple)) else (run,)
        self.stride, self.batch_size, self.threads = stride, batch_size, threads
        self.models: dict[int, tuple[Any, Any]] = {}  # part -> (model, error-level model)

    @property
    def model(self) -> Any:
        """The first run's model once loaded (``None`` before)."""
        return self.models[0][0] if 0 in self.models else None

    def _load(self, part: int = 0) -> None:
        run = self.runs[part]
        if run.spec.scorer != "motion":
            from core.quiet_tensorflow import import_tensorflow_quietly

            import_tensorflow_quietly()
        if run.spec.scorer != "motion" and _backend() == "tensorflow":  # JAX / PyTorch: no TensorFlow
            import tensorflow as tf

            # a GPU worker (Ray shows it its GPUs only): workers sharing a GPU each take what they use, not all
            # its memory (RuntimeError: already initialised in this process)
            for gpu in tf.config.list_physical_devices("GPU"):
                with contextlib.suppress(RuntimeError):
                    tf.config.experimental.set_memory_growth(gpu, True)
            try:
                tf.config.threading.set_intra_op_parallelism_threads(self.threads)
                tf.config.threading.set_inter_op_parallelism_threads(self.threads)
            except RuntimeError:  # TensorFlow already ran something in this process: keep its threads
                pass
        self.models[part] = run.load_models()

    def pid(self) -> int:
        return os.getpid()

    def score(self, task: SegmentTask) -> SegmentDone:
        """Score ``task``'s segment (each of its signals), write its scores to the segment cache, and say so."""
        from core.inference.anomaly.shared_decode import can_share

        began, cpu = time.perf_counter(), time.process_time()
        for part, _ in task.parts:
            if part not in self.models:
                self._load(part)
        if task.shared_key is not None and can_share(task.video_path, self.runs[0].spec, self.runs[1].spec):
            results = score_shared_segment((self.models[0], self.models[1]), task.video_path, self.runs[:2],
                                           task.segment, self.stride, self.batch_size)
        else:  # one pass per signal
            results = tuple(score_segment(self.models[part][0], task.video_path, self.runs[part], task.segment,
                                          self.stride, self.batch_size, self.models[part][1])
                            for part, _ in task.parts)
        for (_, key), scores in zip(task.parts, results, strict=True):
            SegmentCache(self.project_folder).write_segment(key, task.segment, scores, task.video_id)
        return SegmentDone(task, int(results[0].shape[0]), os.getpid(), time.perf_counter() - began,
                           time.process_time() - cpu)


def _backend() -> str:
    import keras

    return keras.backend.backend()
