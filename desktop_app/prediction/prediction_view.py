"""Predicted frames beside the real ones: ground truth, prediction and an absolute-error heat map.

:class:`PredictionView` shows, for a next-frame (``predict``) run, what the model predicts from ``given``
real frames of a video starting at a frame: the next ``m`` frames, each as three panes (the real frame,
the predicted one, and ``|truth - prediction|`` as a heat map), with a slider and step buttons across the
``m`` steps. Its public API, for a controller to wire it to the player:

* :meth:`PredictionView.set_source` ``(run, video_path, start)``: a run folder, a video and the first given
  frame (as ``framewatch predict --start``). A run that is not a next-frame model (or cannot be read) shows
  a message in the view instead of panes.
* :meth:`PredictionView.clear` ``(message)``: no run (the panes emptied, the message shown).
* :meth:`PredictionView.set_position` ``(frame)``: the player moved; the running rollout is cancelled at
  once and a new one starts after :attr:`PredictionView.DEBOUNCE_MS` of quiet.
* :meth:`PredictionView.set_future` / :meth:`PredictionView.set_given` / :meth:`PredictionView.set_step`.
* :meth:`PredictionView.export` ``(path)``: the strip as a GIF or MP4 (:mod:`core.render.side_by_side`).
* Signals: ``rollout_started(start)``, ``rollout_finished(VideoRollout)``, ``step_changed(step)``,
  ``export_finished(path)``.

Every rollout and export runs in a :class:`~desktop_app.jobs.Worker` with progress and cancel; the
model is loaded once per run (:class:`~core.models.model_cache.ModelCache`) so that later
rollouts reuse its compiled step. A job's error ends in a dialog (:func:`~desktop_app.jobs.show_error`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import FramewatchError
from core.inference.anomaly.error_overlay import heat_colors
from core.inference.rollout.video_rollout import RolloutRun, VideoRollout, predict_run, rollout_video
from core.jobs import ProgressCallback
from core.models.model_cache import ModelCache
from core.render.side_by_side import rgb_uint8, rollout_side_by_side, write_side_by_side
from desktop_app.jobs import JobBar, Worker, show_error
from desktop_app.player import FrameView

#: Default real frames given to the model and frames predicted (those of ``framewatch predict``).
DEFAULT_GIVEN = 10
DEFAULT_FUTURE = 10
MAX_FRAMES = 200


def error_heatmap(error: np.ndarray, scale: float) -> np.ndarray:
    """``(H, W[, C])`` absolute errors as an ``(H, W, 3)`` RGB ``uint8`` heat map (inferno): 0 black, ``scale``
    and above the brightest; channels are averaged first."""
    error = np.asarray(error, np.float32)
    if error.ndim == 3:
        error = error.mean(axis=2)
    return heat_colors(error / max(scale, 1e-6))


def _rollout_job(models: ModelCache, run: RolloutRun, video: Path, start: int, given: int, future: int,
                 progress: ProgressCallback, cancel: threading.Event) -> VideoRollout:
    model = run.check_model(models.get(run.model_path))
    return rollout_video(model, video, run.spec.preprocess, start, given, future, progress=progress, cancel=cancel)


def _export_job(result: VideoRollout, path: Path, error: bool, overwrite: bool,
                progress: ProgressCallback, cancel: threading.Event) -> Path:
    return write_side_by_side(path, rollout_side_by_side(result, error=error), result.fps, overwrite=overwrite,
                              progress=progress, cancel=cancel)


class PredictionView(QWidget):
    """Ground truth, prediction and error heat map for the next ``m`` frames of a next-frame run (module doc)."""

    rollout_started = Signal(int)  # the first given frame
    rollout_finished = Signal(object)  # VideoRollout
    step_changed = Signal(int)  # the step shown, 0-based
    export_finished = Signal(object)  # Path

    #: Quiet time after the last :meth:`set_position` before a new rollout starts.
    DEBOUNCE_MS = 200

    def __init__(self, parent: QWidget | None = None, models: ModelCache | None = None) -> None:
        super().__init__(parent)
        self.models = models or ModelCache()
        self.run: RolloutRun | None = None
        self.video: Path | None = None
        self.start = 0
        self.result: VideoRollout | None = None
        self.worker: Worker | None = None  # the rollout whose result will be shown
        self.export_worker: Worker | None = None
        self._frame_count: int | None = None  # the video's, once a rollout has read it
        self._error_scale = 1.0

        self.message = QLabel("Choose a next-frame run and a video.")
        self.message.setWordWrap(True)
        self.truth_pane, self.predicted_pane, self.error_pane = FrameView(), FrameView(), FrameView()
        for pane, text in ((self.truth_pane, "truth"), (self.predicted_pane, "predicted"),
                           (self.error_pane, "|error|")):
            pane.setMinimumSize(96, 96)
            pane.placeholder = text
        panes = QHBoxLayout()
        for pane in (self.truth_pane, self.predicted_pane, self.error_pane):
            panes.addWidget(pane)

        self.given_spin = QSpinBox(minimum=1, maximum=MAX_FRAMES, value=DEFAULT_GIVEN)
        self.given_spin.setToolTip("Real frames given to the model")
        self.future_spin = QSpinBox(minimum=1, maximum=MAX_FRAMES, value=DEFAULT_FUTURE)
        self.future_spin.setToolTip("Frames to predict (m)")
        self.previous_button = QToolButton(text="<")
        self.previous_button.setToolTip("Previous predicted frame")
        self.next_button = QToolButton(text=">")
        self.next_button.setToolTip("Next predicted frame")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.step_label = QLabel("")
        self.jobs = JobBar()
        self.progress, self.cancel_button = self.jobs.progress, self.jobs.cancel_button
        self.export_button = QPushButton("Export...")
        self.export_button.setToolTip("Write truth, prediction and |error| side by side as a GIF or MP4")
        self.export_button.setEnabled(False)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("given"))
        controls.addWidget(self.given_spin)
        controls.addWidget(QLabel("predict"))
        controls.addWidget(self.future_spin)
        controls.addWidget(self.previous_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.next_button)
        controls.addWidget(self.step_label)
        jobs = QHBoxLayout()
        jobs.addWidget(self.jobs, 1)
        jobs.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(panes, 1)
        layout.addLayout(controls)
        layout.addLayout(jobs)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(self.DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh)
        self.given_spin.valueChanged.connect(self._schedule)
        self.future_spin.valueChanged.connect(self._schedule)
        self.slider.valueChanged.connect(self._show_step)
        self.previous_button.clicked.connect(lambda: self.set_step(self.slider.value() - 1))
        self.next_button.clicked.connect(lambda: self.set_step(self.slider.value() + 1))
        self.jobs.cancelled.connect(self._debounce.stop)
        self.export_button.clicked.connect(self._ask_export)

    # -- public API ---------------------------------------------------------------------------------
    @property
    def given(self) -> int:
        return self.given_spin.value()

    @property
    def future(self) -> int:
        return self.future_spin.value()

    @property
    def step(self) -> int:
        return self.slider.value()

    def set_source(self, run: str | Path, video_path: str | Path, start: int = 0) -> bool:
        """Show run ``run`` (its folder) over ``video_path`` from frame ``start``; start the rollout at once.

        Returns False, with the reason in the view, for a run that cannot roll out (another task, no model).
        """
        self.cancel()
        self._clear()
        self.video = Path(video_path)
        self.start = max(0, int(start))
        self._frame_count = None
        try:
            self.run = predict_run(Path(run).parent, Path(run))
        except FramewatchError as exc:
            self.run = None
            self._say(f"No predicted frames: {exc}")
            return False
        self.refresh()
        return True

    def clear(self, message: str) -> None:
        """No run: cancel the jobs, empty the panes and show ``message``."""
        self.cancel()
        self._clear()
        self.run = None
        self._say(message)

    def set_position(self, frame: int) -> None:
        """Follow the player: roll out from ``frame`` once it stops moving; a running rollout is cancelled now."""
        self.start = max(0, int(frame))
        if self.worker is not None:
            self.worker.cancel()
        self._schedule()

    def set_given(self, frames: int) -> None:
        self.given_spin.setValue(frames)

    def set_future(self, frames: int) -> None:
        self.future_spin.setValue(frames)

    def set_step(self, step: int) -> None:
        """Show predicted frame ``step`` (0-based, clamped to the steps there are)."""
        self.slider.setValue(max(self.slider.minimum(), min(self.slider.maximum(), int(step))))

    def refresh(self) -> Worker | None:
        """Start a rollout for the current run, video, start, given and future (cancelling the running one)."""
        self._debounce.stop()
        previous, self.worker = self.worker, None
        if previous is not None:
            previous.cancel()
        if self.run is None or self.video is None:
            return None
        if self._frame_count is not None and self.start + self.given > self._frame_count:
            self._say(f"Frame {self.start}: fewer than {self.given} frames left before the end of "
                      f"{self.video.name} ({self._frame_count} frames).")
            return None
        worker = Worker(_rollout_job, self.models, self.run, self.video, self.start, self.given, self.future,
                        name="rollout")
        worker.finished.connect(lambda result, w=worker: self._on_rollout(w, result))
        worker.error.connect(lambda exc, w=worker: self._on_error(w, exc))
        self.worker = self.jobs.track(worker, replaces=previous)
        self._say(f"Predicting {self.future} frames from frames {self.start}..{self.start + self.given - 1} "
                  f"of {self.video.name} ({self.run.run_id})...")
        worker.start()
        self.rollout_started.emit(self.start)
        return worker

    def cancel(self) -> None:
        """Cancel the running rollout and export, if any."""
        self._debounce.stop()
        self.jobs.cancel()

    def export(self, path: str | Path, error: bool = True, overwrite: bool = False) -> Worker | None:
        """Write the shown rollout to ``path`` (``.gif`` or ``.mp4``) in a worker; ``None`` without a rollout.

        An existing file is refused (a dialog) unless ``overwrite``.
        """
        if self.result is None:
            return None
        worker = Worker(_export_job, self.result, Path(path), error, overwrite, name="export")
        worker.finished.connect(self.export_finished.emit)
        worker.error.connect(lambda exc, w=worker: self._on_error(w, exc))
        worker.done.connect(lambda w=worker: self._export_done(w))
        self.export_worker = self.jobs.track(worker)
        return worker.start()

    # -- panes ----------------------------------------------------------------------------------------
    def truth_frame(self) -> np.ndarray | None:
        """The real frame of the step shown, float32 ``(H, W, C)`` in [0, 1] (``None`` past the video's end)."""
        return None if self.result is None else self.result.truth_at(self.step)

    def predicted_frame(self) -> np.ndarray | None:
        return None if self.result is None else self.result.predicted[self.step]

    def error_frame(self) -> np.ndarray | None:
        """``|truth - prediction|`` of the step shown, float32 ``(H, W, C)`` (what the heat map draws)."""
        truth, predicted = self.truth_frame(), self.predicted_frame()
        return None if truth is None or predicted is None else np.abs(truth - predicted)

    # -- internals ------------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.message.setText(text)

    def _schedule(self, *_: Any) -> None:
        if self.run is not None:
            self._debounce.start()

    def _clear(self) -> None:
        self.result = None
        for pane in (self.truth_pane, self.predicted_pane, self.error_pane):
            pane.set_frame(None)
        self.slider.setRange(0, 0)
        self.step_label.setText("")
        self.export_button.setEnabled(False)

    def _on_rollout(self, worker: Worker, result: VideoRollout) -> None:
        if worker is not self.worker:
            return  # a stale rollout that finished before it saw its cancel
        self.worker = None
        self.result = result
        self._frame_count = result.frame_count
        errors = result.errors()
        self._error_scale = float(errors.max()) if errors.size and errors.max() > 0 else 1.0
        self.slider.blockSignals(True)
        self.slider.setRange(0, result.future - 1)
        self.slider.setValue(min(self.slider.value(), result.future - 1))
        self.slider.blockSignals(False)
        self.export_button.setEnabled(True)
        self._say(f"{self.run.run_id if self.run else ''}: {result.future} frames predicted from frames "
                  f"{result.start}..{result.first_future - 1} of {result.video.name}; |error| heat map from 0 "
                  f"(black) to {self._error_scale:.3f} (bright).")
        self._show_step(self.slider.value())
        self.rollout_finished.emit(result)

    def _on_error(self, worker: Worker, exc: BaseException) -> None:
        """A job's error: a dialog for the shown rollout or the export; a stale rollout's is dropped."""
        current = worker is self.worker or worker is self.export_worker
        if worker is self.worker:
            self.worker = None
            self._say("No predicted frames: the rollout was cancelled." if worker.cancelled
                      else "No predicted frames: the rollout failed.")
        if current:
            show_error(self, exc, "Predicted frames")  # shows nothing for Cancelled

    def _export_done(self, worker: Worker) -> None:
        if worker is self.export_worker:
            self.export_worker = None

    def _show_step(self, step: int) -> None:
        result = self.result
        if result is None:
            return
        frame = result.first_future + step
        truth = result.truth_at(step)
        self.truth_pane.set_frame(None if truth is None else rgb_uint8(truth))
        self.truth_pane.placeholder = f"no real frame {frame} (past the end)"
        self.truth_pane.set_caption(f"truth {frame}")
        self.predicted_pane.set_frame(rgb_uint8(result.predicted[step]))
        self.predicted_pane.set_caption(f"predicted +{step + 1}")
        error = self.error_frame()
        self.error_pane.set_frame(None if error is None else error_heatmap(error, self._error_scale))
        self.error_pane.placeholder = "no error without a real frame"
        self.error_pane.set_caption("|error|")
        self.step_label.setText(f"+{step + 1}/{result.future}  frame {frame}")
        self.step_changed.emit(step)

    def _ask_export(self) -> None:
        name = self.video.stem if self.video else "prediction"
        path, _ = QFileDialog.getSaveFileName(self, "Export predicted frames", f"{name}-predicted.gif",
                                              "GIF animation (*.gif);;MP4 video (*.mp4)")
        if path:
            self.export(path, overwrite=True)  # the file dialog has asked before replacing a file
