"""Predicted frames and window segments in the window: the "Predicted frames" dock and its Model actions.

:class:`PredictionController` owns :attr:`panel` (placed by the window in the "Predicted frames" dock):
a line naming the model run, then the view that fits the run of ``state.model_run``:

* a next-frame (``predict``) run: :attr:`prediction_view` (a :class:`PredictionView`) rolls out from the
  playhead: it follows ``state.position_changed`` (a new rollout once the playhead rests) and
  ``state.video_changed``;
* a ``classify`` or ``regress`` run: :attr:`segments_view` (a :class:`SegmentsView`); Model > Classify
  Video labels the video window by window in a worker, and its segments go to the timeline's
  :data:`SEGMENTS_LANE` lane (``state.set_lane`` with :class:`~desktop_app.state.LaneBand` records);
  Model > Export Annotated Video writes the labelled copy;
* any other run (or none): the prediction view's message says why there are no predicted frames.

Nothing is decoded or rolled out while the dock is hidden; the view catches up when it is shown. Both
views share one :class:`ModelCache`, so a run's model is loaded once.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

from core.errors import FramewatchError
from core.inference.labelling.windows import WINDOW_TASKS
from core.models.model_cache import ModelCache
from core.runs import RunRecord, find_run_dir
from desktop_app.common.actions import build_actions
from desktop_app.common.docks import bring_dock_to_front
from desktop_app.prediction.prediction_view import PredictionView
from desktop_app.prediction.segments_view import SegmentsView
from desktop_app.state import AppState, LaneBand

#: The timeline lane the segments of a classify or regress run fill.
SEGMENTS_LANE = "Segments"


class PredictionPanel(QWidget):
    """The dock's widget: ``shown()`` when it comes into sight (shown, or its dock's tab raised) and
    ``hidden()`` when it goes out of it, so that the views only work while they can be seen (:attr:`in_sight`)."""

    shown = Signal()
    hidden = Signal()

    @property
    def in_sight(self) -> bool:
        """Shown and not behind another dock's tab (a tabbed-away dock is moved out of the window)."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ParentChange and isinstance(self.parentWidget(), QDockWidget):
            self.parentWidget().visibilityChanged.connect(lambda seen: self.shown.emit() if seen else self.hidden.emit())
        return super().event(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.shown.emit()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self.hidden.emit()


class PredictionController(QObject):
    """Predicted frames and window segments in the main window; see the module docstring."""

    def __init__(self, state: AppState, window: QWidget) -> None:
        super().__init__(window)
        self.state = state
        self.window = window
        self.models = ModelCache()
        self.run_dir: Path | None = None
        self.task = ""
        self._stale = True  # the views do not show the state's run, video and playhead yet

        self.panel = PredictionPanel(window)
        self.run_label = QLabel()
        self.run_label.setWordWrap(True)
        self.prediction_view = PredictionView(self.panel, models=self.models)
        self.segments_view = SegmentsView(self.panel, models=self.models)
        layout = QVBoxLayout(self.panel)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.run_label)
        layout.addWidget(self.prediction_view, 1)
        layout.addWidget(self.segments_view)
        self.segments_view.hide()

        self.actions = build_actions(window, {
            "show_predictions": self.show_panel,
            "classify_video": self.classify,
            "export_annotated_video": self.export_annotated,
        })
        self.panel.shown.connect(lambda: self._catch_up() if self.showing else None)
        self.panel.hidden.connect(self._on_hidden)
        self.prediction_view.rollout_started.connect(lambda _start: self._track(self.prediction_view.worker))
        self.segments_view.bands_changed.connect(self._fill_lane)
        self.segments_view.segments_ready.connect(lambda _result: self._update_actions())
        state.project_changed.connect(lambda _project: self._follow())
        state.video_changed.connect(lambda _video: self._follow())
        state.model_run_changed.connect(lambda _run: self._follow())
        state.position_changed.connect(self._on_position)
        self._follow()

    @property
    def showing(self) -> bool:
        return self.panel.in_sight

    # == actions ===================================================================================
    def show_panel(self) -> None:
        """Show and raise the Predicted frames dock."""
        bring_dock_to_front(self.panel)

    def classify(self) -> None:
        """Classify the video with the chosen classify or regress run (its segments fill the lane)."""
        if self.task not in WINDOW_TASKS or self.state.video is None:
            self.state.show_status("Classify needs a video and a classify or regress model run "
                                   "(Model > Train a Model..., then Score this run)")
            return
        self.show_panel()
        self._catch_up()
        self._track(self.segments_view.classify())

    def export_annotated(self) -> None:
        """Ask for a file and write the classified video with its labels drawn on (a worker)."""
        if self.segments_view.result is None:
            self.state.show_status("Classify the video first (Model > Classify Video)")
            return
        path = self.state.choose_save_file("Export annotated video", "MP4 video (*.mp4)")
        if path is not None:
            self._track(self.segments_view.export_annotated(path, overwrite=True))  # the dialog asked about replacing

    # == following the state =======================================================================
    def _follow(self) -> None:
        """The run, video or project changed: show it now if the dock is shown, else when it is."""
        self._stale = True
        self._set_lane([])
        self.prediction_view.cancel()
        self.segments_view.cancel()
        self._resolve_run()
        if self.showing:
            self._catch_up()
        self._update_actions()

    def _resolve_run(self) -> None:
        self.run_dir, self.task = None, ""
        project, run = self.state.project, self.state.model_run
        if project is None or not run:
            self.run_label.setText("No model run: Review > Choose Model Run, or Score this run in the Training "
                                   "panel")
            return
        try:
            self.run_dir = find_run_dir(project.folder, run)
            self.task = RunRecord.load(self.run_dir).task
        except FramewatchError as exc:
            self.run_label.setText(f"Model run {Path(run).name}: {exc}")
            return
        self.run_label.setText(f"Model run: {self.run_dir.name} ({self.task})")

    def _catch_up(self) -> None:
        if not self._stale:
            return
        self._stale = False
        video = self.state.video
        window_run = self.task in WINDOW_TASKS
        self.prediction_view.setVisible(not window_run)
        self.segments_view.setVisible(window_run)
        if self.run_dir is None:
            self.prediction_view.clear("No predicted frames: choose a next-frame model run.")
            self.segments_view.clear("No segments: choose a classify or regress model run.")
        elif video is None:
            self.prediction_view.clear("Open a video to see its predicted frames.")
            self.segments_view.clear("Open a video to classify it.")
        elif window_run:
            self.prediction_view.clear("No predicted frames: a classify or regress run labels windows.")
            colors = {name: c.color for name, c in self.state.project.classes.items()}
            self.segments_view.set_source(self.run_dir, video.path, colors)
        else:
            self.segments_view.clear("No segments: choose a classify or regress model run.")
            self.prediction_view.set_source(self.run_dir, video.path, self.state.position)
        self._update_actions()

    def _on_hidden(self) -> None:
        """Out of sight (or the window closing): a rollout not shown yet is cancelled, and redone when seen."""
        view = self.prediction_view
        if self.showing:
            return  # a tab switch that ends with the dock in sight
        if view.run is not None and (view.worker is not None or view.result is None or view.result.start != view.start):
            view.cancel()
            self._stale = True

    def _on_position(self, frame: int) -> None:
        if not self.showing:
            self._stale = self._stale or self.prediction_view.run is not None
            return
        if self._stale:
            self._catch_up()
        elif self.prediction_view.run is not None and frame != self.prediction_view.start:
            self.prediction_view.set_position(frame)

    def _track(self, worker) -> None:
        """Keep a view's job in ``state.jobs`` (closing the window cancels it)."""
        if worker is not None and not worker.is_done:
            self.state.track(worker)

    def _fill_lane(self, bands: list[LaneBand]) -> None:
        self._set_lane(bands)
        self._update_actions()

    def _set_lane(self, bands: list[LaneBand]) -> None:
        if bands or self.state.lanes.get(SEGMENTS_LANE):
            self.state.set_lane(SEGMENTS_LANE, bands)

    def _update_actions(self) -> None:
        a = self.actions
        a["classify_video"].setEnabled(self.task in WINDOW_TASKS and self.state.video is not None)
        a["export_annotated_video"].setEnabled(self.segments_view.result is not None)
