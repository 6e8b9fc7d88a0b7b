"""What a Ray worker runs: one run's model, loaded once, scoring segments and writing their scores.

:class:`SegmentWorker` is a plain class; :mod:`core.distributed.archive` makes it a Ray actor. It loads the
run's model (and error-level model) on its first segment, through
:meth:`~core.inference.anomaly.project_scoring.ScoringRun.load_models` (``safe_mode=True``, checked to be the
very bytes the driver fingerprinted), decodes its segments itself from the video files (so only paths travel
over the network, never frames) and writes each segment's scores to the project's segment cache before it
answers: a driver that dies meanwhile loses nothing a worker finished.
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


def score_segment(model: Any, video_path: str | Path, run: Any, segment: Segment, stride: int, batch_size: int,
                  error_level: Any = None) -> np.ndarray:
    """The scores (float32 ``(frames,)``) of ``segment``'s frames of the video, each what a single pass over
    the whole video gives it: :func:`score_video` from the segment's first frame (it reads back the frames the
    model needs before it), stopped after the segment's last frame. Fewer frames than the segment holds when
    the video ends inside it."""
    scores: list[float] = []
    for score in score_video(model, video_path, run.spec, stride, batch_size, start=segment.start,
                             error_level=error_level):
        if segment.end is not None and score.index >= segment.end:
            break
        if score.index != segment.start + len(scores):
            raise ScoreError(f"{video_path}: scoring gave frame {score.index} where frame "
                             f"{segment.start + len(scores)} was due (segment {segment.label()})")
        scores.append(score.error)
    return np.asarray(scores, np.float32)


@dataclass(frozen=True)
class SegmentTask:
    """One segment to score: the video (path, id, the score cache key of its scores) and the frame range."""

    video_path: str
    video_id: str
    key: ScoreKey
    segment: Segment
    #: which of the worker's runs scores it: 0, or a fused run's motion signal (1) beside its prediction (0)
    part: int = 0


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
        """Score ``task``'s segment, write its scores to the segment cache, and say so."""
        began, cpu = time.perf_counter(), time.process_time()
        if task.part not in self.models:
            self._load(task.part)
        model, error_level = self.models[task.part]
        scores = score_segment(model, task.video_path, self.runs[task.part], task.segment, self.stride,
                               self.batch_size, error_level)
        SegmentCache(self.project_folder).write_segment(task.key, task.segment, scores, task.video_id)
        return SegmentDone(task, int(scores.shape[0]), os.getpid(), time.perf_counter() - began,
                           time.process_time() - cpu)


def _backend() -> str:
    import keras

    return keras.backend.backend()
