"""Score one video of a project with a run off the GUI thread, streaming its errors into a flagging session.

:class:`ScoringJob` runs :func:`core.inference.anomaly.project_scoring.score_project` for one video in a
:class:`~desktop_app.jobs.Worker`: the score cache is used (a scored video's errors arrive in one piece,
without loading the model), the threshold is calibrated first on the normal footage the run held out of
its training (older runs: the train-split videos), and the video's
errors are heard frame by frame as they are scored (``on_scores``). The scoring thread only queues them;
a timer on the GUI thread hands them on at most every :data:`FLUSH_MS` milliseconds as
``scores(first_frame, errors)`` and appends them to a :class:`~core.inference.anomaly.flagging_session.FlaggingSession`
(which flags only the tail they change), so the chart drawing it grows live without one redraw per frame.
``cancel()`` stops the job (the scores so far stay cached and the next run resumes); any other error
ends in a dialog.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from core.errors import Cancelled
from core.inference.anomaly.flagging_session import Flagging, FlaggingSession
from core.inference.anomaly.project_scoring import ProjectScores, ScoringRun, score_project
from core.inference.anomaly.regularity import Threshold
from desktop_app.jobs import Worker, show_error

#: Longest wait, in milliseconds, between a frame being scored and the chart hearing of it.
FLUSH_MS = 30


class ScoringJob(QObject):
    """One video scored by one run (see the module doc). Create on the GUI thread, connect, :meth:`start`.

    ``video`` is an id, name or path of the project's; ``min_run``, ``merge_gap`` and the other keywords
    (``stride``, ``batch_size``, ``threshold``, ``percentile``, ``smoothing``, ``load_model``...) go to
    :func:`~core.inference.anomaly.project_scoring.score_project` (``None``: the run's event rule), and the
    session flags with the ``min_run`` and ``merge_gap`` scoring used (the threshold carries them).

    Signals (all on the GUI thread): ``threshold_ready(Threshold)`` once calibrated, ``scores(int,
    object)`` first frame and float32 errors of the frames scored since the last one, ``progress(Progress)``,
    ``finished(VideoScores)``, ``failed(exception)`` (``Cancelled`` included, shown in no dialog), ``done()``.
    With ``session`` the job also feeds that session: cleared for the video, its ground truth set, the
    threshold and the scores appended as they come, and the final series handed over when the job ends
    (the frames it streamed: nothing is flagged twice).
    """

    threshold_ready = Signal(object)
    scores = Signal(int, object)
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, project: Any, run: str | Path | ScoringRun, video: str, session: FlaggingSession | None = None,
                 parent: QWidget | None = None, min_run: int | None = None, merge_gap: int | None = None,
                 **scoring: Any) -> None:
        super().__init__(parent)
        self.project = project
        self.run = run
        self.video = video
        self.session = session
        self.min_run, self.merge_gap = min_run, merge_gap
        self.scoring = scoring
        self.result: ProjectScores | None = None
        self.worker: Worker | None = None
        self._target = ""
        self._lock = threading.Lock()
        self._pending: list[tuple[int, np.ndarray]] = []
        self._threshold: Threshold | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self._flush)

    @property
    def is_running(self) -> bool:
        return self.worker is not None and self.worker.is_running

    def start(self) -> ScoringJob:
        """Start scoring on a pool thread; returns ``self``."""
        if self.worker is not None:
            raise RuntimeError("a scoring job runs once; make a new one to score again")
        self.worker = Worker(self._score, name="score video")
        try:
            self._target = self.project.video(self.video).id
        except Exception as exc:  # noqa: BLE001 - an unknown video: a dialog, and the job ends at once
            self.worker.is_done = True
            self._on_error(exc)
            return self
        if self.session is not None:
            self.session.clear(self._target)
            self.session.set_ground_truth(self.project.intervals_of(self._target))
        self.worker.progress.connect(self.progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.error.connect(self._on_error)
        self._timer.start()
        self.worker.start()
        return self

    def cancel(self) -> None:
        """Ask the job to stop; it ends with ``failed(Cancelled)`` and keeps what it scored in the cache."""
        if self.worker is not None:
            self.worker.cancel()

    # -- the scoring thread -----------------------------------------------------------------------
    def _score(self, progress: Any = None, cancel: threading.Event | None = None) -> ProjectScores:
        return score_project(self.project, self.run, [self._target], progress=progress, cancel=cancel,
                             min_run=self.min_run, merge_gap=self.merge_gap, on_scores=self._heard,
                             on_threshold=self._calibrated, **self.scoring)

    def _heard(self, video_id: str, first: int, errors: np.ndarray) -> None:
        if video_id == self._target:
            with self._lock:
                self._pending.append((first, errors))

    def _calibrated(self, threshold: Threshold) -> None:
        with self._lock:
            self._threshold = threshold

    # -- the GUI thread ---------------------------------------------------------------------------
    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            threshold, self._threshold = self._threshold, None
        if threshold is not None:
            if self.session is not None:
                # the event rule scoring resolved (the run's default unless one was given) travels with it
                self.session.set_flagging(Flagging(threshold, threshold.min_run, threshold.merge_gap))
            self.threshold_ready.emit(threshold)
        for first, errors in _runs(pending):
            if self.session is not None:
                self.session.append(first, errors)
            self.scores.emit(first, errors)

    def _on_finished(self, result: ProjectScores) -> None:
        self._timer.stop()
        self._flush()
        self.result = result
        video = result.videos[0]
        if self.session is not None and self.session.video_id == video.video_id:
            self.session.set_errors(video.errors)  # the whole series, as the cache holds it
        self.finished.emit(video)
        self.done.emit()

    def _on_error(self, exc: BaseException) -> None:
        self._timer.stop()
        self._flush()
        if not isinstance(exc, Cancelled):
            parent = self.parent() if isinstance(self.parent(), QWidget) else None
            show_error(parent.window() if parent is not None else None, exc, "Scoring")
        self.failed.emit(exc)
        self.done.emit()


def _runs(chunks: list[tuple[int, np.ndarray]]) -> list[tuple[int, np.ndarray]]:
    """Consecutive chunks of frames joined: ``[(first frame, errors), ...]`` with no two that touch."""
    joined: list[tuple[int, list[np.ndarray], int]] = []
    for first, errors in chunks:
        if joined and joined[-1][2] == first:
            start, parts, _ = joined[-1]
            parts.append(errors)
            joined[-1] = (start, parts, first + errors.shape[0])
        else:
            joined.append((first, [errors], first + errors.shape[0]))
    return [(start, np.concatenate(parts)) for start, parts, _ in joined]
