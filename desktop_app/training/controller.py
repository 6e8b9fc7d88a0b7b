"""The training feature in the window: the Model menu's training actions and the "Training" dock.

:class:`TrainingController` owns :attr:`panel` (a :class:`~desktop_app.training.panel.TrainingPanel`,
placed by the window in the "Training" dock) and the actions ``train_model`` (Model > Train a Model...,
Ctrl+T: shows and raises the dock) and ``cancel_training``.

* The panel follows ``state.project``. A project opened while a run trains cancels the run; the panel
  shows the new project once the run has stopped (a run writes to the project it started on).
* Every run's worker is kept by ``state.track``, so closing the window cancels it. Hiding the dock
  does not: the run goes on and the curves keep growing.
* The runs table's "Score this run" sets ``state.set_model_run(<run name>)`` (the review and prediction
  features follow it); deleting the chosen run clears the model run.
* The backend is asked for its devices (it imports TensorFlow, in a worker) the first time the panel
  is shown, not when the window opens.
* Questions (delete a run?) go through ``state.ask``, so tests answer them without a nested loop.
* **Review > Learn from Rejected Events** (``learn_from_rejected``, owned here: it fits an error level,
  training's work) refits the model run's error level and threshold on the events the analyst rejected for
  it (:func:`core.training.verdict_refit.refit_from_verdicts`) in a job with a progress dialog and Cancel
  (which leaves the run as it was), then chooses the run again (``state.set_model_run``), so the review
  feature reloads its scores and events.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from core.runs import RunError, find_run_dir, runs_dir
from desktop_app.common.actions import build_actions
from desktop_app.common.docks import bring_dock_to_front
from desktop_app.jobs import Worker, run_job
from desktop_app.state import AppState
from desktop_app.training.panel import TrainingPanel

_YES, _NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No

#: The share of the window's width and height the Training dock takes when it is brought up: most of the width
#: (the Events dock beside it gives way; the options lie in columns), and as much height as the video leaves.
PANEL_ROOM = (0.7, 0.5)


class TrainingController(QObject):
    """Training in the main window; see the module docstring."""

    def __init__(self, state: AppState, window: QWidget) -> None:
        super().__init__(window)
        self.state = state
        self.window = window
        self.panel = TrainingPanel(window, detect=False)
        self.panel.confirm = lambda title, text: state.ask(title, text, _YES | _NO, _NO) == _YES
        self._devices_asked = False
        self._pending_project: tuple[object] | None = None  # a project to show once the run has stopped
        self.actions = build_actions(window, {
            "train_model": self.show_panel,
            "cancel_training": self.cancel,
            "learn_from_rejected": self.learn_from_rejected,
        })
        self.refit_worker: Worker | None = None
        #: Whether the review feature is scoring now (the window sets it): a refit must not race that scoring,
        #: which would write the run's events.json with the old error level and threshold after the refit's.
        self.scoring_now: Callable[[], bool] = lambda: False
        self.panel.job_started.connect(self._on_job_started)
        self.panel.score_requested.connect(self._score_run)
        self.panel.runs_changed.connect(self._on_runs_changed)
        state.project_changed.connect(self._on_project)
        state.project_edited.connect(self._on_project_edited)
        self._update_actions()

    @property
    def is_training(self) -> bool:
        return self.panel.is_training

    def show_panel(self) -> None:
        """Show and raise the Training dock (asking the backend for its devices the first time)."""
        bring_dock_to_front(self.panel, room=PANEL_ROOM)
        if not self._devices_asked:
            self._devices_asked = True
            self.panel.detect_devices()
        self.panel.form.setFocus()
        if self.state.project is None:
            self.state.show_status("Open or create a project to train a model on its videos")

    def cancel(self) -> None:
        self.panel.cancel()

    # == learning from verdicts ====================================================================
    def learn_from_rejected(self) -> None:
        """Refit the model run on the events rejected for it, in a job (see the module doc)."""
        from core.training.verdict_refit import refit_from_verdicts

        project, run = self.state.project, self.state.model_run
        if project is None:
            self.state.show_status("Open a project, score it and reject its false alarms first")
            return
        if not run:
            self.state.show_status("Choose the model run whose events you reviewed (Review > Choose Model Run...)")
            return
        if self.refit_worker is not None and self.refit_worker.is_running:
            return
        if self.scoring_now():
            self.state.show_status("Scoring is running: let it finish, or cancel it (Review > Cancel Scoring), "
                                   "then learn from the rejected events", 10000)
            return
        self.refit_worker = run_job(self.window, "Learning from rejected events", refit_from_verdicts, project, run,
                                    on_finished=lambda refit: self._on_refitted(run, refit))
        self.refit_worker.done.connect(self._update_actions)
        self.state.track(self.refit_worker)
        self._update_actions()

    def _on_refitted(self, run: str, refit) -> None:
        if self.state.model_run == run:
            self.state.set_model_run(run)  # the review feature reads the run's new error level and events
        self.state.show_status(f"{refit.run}: {refit.summary()}", 15000)

    # == following the panel and the window ========================================================
    def _on_job_started(self, worker: Worker) -> None:
        self.state.track(worker)
        worker.done.connect(self._on_job_done)
        self._update_actions()

    def _on_job_done(self) -> None:
        if self._pending_project is not None:
            (project,) = self._pending_project
            self._pending_project = None
            self.panel.set_project(project)
        self._update_actions()

    def _score_run(self, run_dir: Path) -> None:
        project = self.state.project
        inside = project is not None and Path(run_dir).parent == runs_dir(project.folder)
        self.state.set_model_run(Path(run_dir).name if inside else str(run_dir))
        self.state.show_status(f"Model run: {Path(run_dir).name}")

    def _on_runs_changed(self) -> None:
        run, project = self.state.model_run, self.state.project
        if not run or project is None:
            return
        try:
            find_run_dir(project.folder, run)
        except RunError:
            self.state.set_model_run(None)  # the chosen run was deleted

    def _on_project(self, project) -> None:
        if self.panel.is_training and project is not self.panel.project:
            self._pending_project = (project,)
            self.panel.cancel()
            self.state.show_status("Training cancelled: the run belonged to the project that was closed", 8000)
        else:
            self.panel.set_project(project)
        self._update_actions()

    def _on_project_edited(self, event) -> None:
        if set(event.collections) & {"videos", "subclips", "normal_spans"}:  # what decides each video's split
            self.panel.refresh_videos()

    def _update_actions(self) -> None:
        self.actions["cancel_training"].setEnabled(self.panel.is_training)
        refitting = self.refit_worker is not None and self.refit_worker.is_running
        self.actions["learn_from_rejected"].setEnabled(self.state.project is not None and not refitting)
