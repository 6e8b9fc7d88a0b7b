"""The event review panel: flagged events in a table, stepped through frame by frame, judged with keys.

:class:`EventReview` lists events (start, end, peak, verdict, note) of one video or of the whole project,
with the verdicts of the run that flagged them attached (:func:`core.inference.anomaly.events.attach_verdicts`).
Start and End are the event's first and last frame, both included, as the status line reads them
("frame 61 of 60-62"); the files keep ``end`` exclusive. A followed
:class:`~core.inference.anomaly.flagging_session.FlaggingSession` (:meth:`EventReview.follow`) replaces its
video's events whenever it flags again. Keys, active while the panel has focus (:data:`REVIEW_KEYS`):

* ``N`` / ``P``: next / previous event (the player is asked to seek to its first frame);
* ``.`` / ``,``: one frame forward / back inside the event (never out of it);
* ``C`` / ``R`` / ``U``: confirm, reject, unsure, with the text of the note field, recorded through
  :meth:`core.project.Project.set_verdict` (an undoable project command; the project's Undo takes it back
  and the table follows);
* ``Shift+C``: confirm the event and make it a ground-truth anomaly interval, one undoable action
  (:meth:`core.project.Project.confirm_as_interval`);
* ``H``: the error heat-map overlay on or off. The event's error maps are computed by a worker
  (:func:`core.inference.anomaly.error_overlay.span_error_maps`) once per event, and ``overlay_changed(frame,
  rgba)`` hands the player an RGBA ``uint8`` image of the frame's size (``None``: draw nothing).

Rejected events count as normal footage for the next training run (:mod:`core.data.verdicts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import Cancelled
from core.inference.anomaly.error_overlay import error_heatmap, span_error_maps
from core.inference.anomaly.events import Event, attach_verdicts
from core.inference.anomaly.events_file import read_events
from core.inference.anomaly.flagging_session import FlaggingSession, SessionChange
from core.inference.anomaly.project_scoring import ScoringRun, events_dir, project_run_id, run_model
from desktop_app.common.actions import ACTIONS
from desktop_app.common.fit_label import FitLabel
from desktop_app.common.project_events import ProjectEvents
from desktop_app.jobs import Worker, show_error

#: The window's Review actions that act on the current event (their keys are in
#: :data:`desktop_app.common.actions.ACTIONS`, the one key table): the panel binds the same keys while it has
#: focus, and the window's actions call :meth:`EventReview.event_handlers`.
EVENT_ACTIONS = ("next_event", "previous_event", "event_frame_forward", "event_frame_back", "confirm_event",
                 "reject_event", "unsure_event", "confirm_as_interval", "toggle_heatmap")
#: What key each event action has: ``{action: key sequence}``, read from the action table.
REVIEW_KEYS = {spec.key: spec.shortcuts[0] for spec in ACTIONS if spec.key in EVENT_ACTIONS}
COLUMNS = ("Video", "Start", "End", "Peak", "Verdict", "Note")
VERDICT_KEYS = {"confirm": "confirmed", "reject": "rejected", "unsure": "unsure"}
#: Pixel errors above this quantile of an event's error maps show at full colour (see :func:`_heat_scale`).
HEAT_QUANTILE = 0.999


def _heat_scale(maps: np.ndarray) -> float | None:
    """The error shown at full colour: the event's 99.9th percentile of pixel errors, not its single worst
    pixel (squared errors are so peaked that scaling by the maximum leaves the moving object barely tinted)."""
    top = float(np.quantile(maps, HEAT_QUANTILE))
    return top if top > 0 else None


class EventReview(QWidget):
    """Flagged events to review (see the module doc). Give it a project and a run, then events.

    Signals: ``seek_requested(video_id, frame)``, ``current_changed(Event | None)``,
    ``overlay_changed(frame, rgba | None)``.
    """

    seek_requested = Signal(str, int)
    current_changed = Signal(object)
    overlay_changed = Signal(int, object)

    def __init__(self, parent: QWidget | None = None, project_edited: Any = None) -> None:
        """``project_edited``: a signal that carries the open project's :class:`~core.project.ProjectEvent` on
        the GUI thread (a window's ``AppState.project_edited``); without one the panel relays its project's
        events itself."""
        super().__init__(parent)
        self.project: Any = None
        self.run: ScoringRun | None = None
        self.run_id: str | None = None
        self._events: list[Event] = []
        self._shown: list[Event] = []
        self._video_filter: str | None = None
        self._current: int | None = None
        self._frame: int | None = None
        self._maps: dict[tuple[str, int, int], np.ndarray] = {}
        self._map_worker: Worker | None = None
        self._project_events: ProjectEvents | None = None
        if project_edited is None:
            self._project_events = ProjectEvents(self)
            project_edited = self._project_events.changed
        project_edited.connect(self._on_project_changed)

        self.scope = QComboBox()
        self.scope.addItems(["This video", "Whole project"])
        self.scope.currentIndexChanged.connect(self._refill)
        self.heatmap = QCheckBox("Error heat map (H)")
        self.heatmap.toggled.connect(self._on_heatmap_toggled)
        self.status = FitLabel()  # elided: a long status never widens the window
        top = QHBoxLayout()
        top.addWidget(self.scope)
        top.addWidget(self.heatmap)
        top.addStretch(1)
        top.addWidget(self.status)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeaderItem(1).setToolTip("The event's first frame")
        self.table.horizontalHeaderItem(2).setToolTip("The event's last frame (included)")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)

        self.note = QLineEdit()
        keys = REVIEW_KEYS
        self.note.setPlaceholderText(
            f"Note for the next verdict ({keys['confirm_event']} confirm, {keys['reject_event']} reject, "
            f"{keys['unsure_event']} unsure, {keys['confirm_as_interval']} interval)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)

        handlers = self.event_handlers()
        self.shortcuts: dict[str, QShortcut] = {}
        for name, key in REVIEW_KEYS.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(handlers[name])
            self.shortcuts[name] = shortcut
        self._update_status()

    def event_handlers(self) -> dict[str, Callable[[], None]]:
        """What each of :data:`EVENT_ACTIONS` does to this panel's current event."""
        return {
            "next_event": lambda: self.move_event(1),
            "previous_event": lambda: self.move_event(-1),
            "event_frame_forward": lambda: self.step(1),
            "event_frame_back": lambda: self.step(-1),
            "confirm_event": lambda: self.record_verdict("confirmed"),
            "reject_event": lambda: self.record_verdict("rejected"),
            "unsure_event": lambda: self.record_verdict("unsure"),
            "confirm_as_interval": self.confirm_as_interval,
            "toggle_heatmap": self.heatmap.toggle,
        }

    # -- what it reviews ----------------------------------------------------------------------------
    def set_project(self, project: Any, run: str | Path | ScoringRun | None = None) -> None:
        """Review events of ``project`` flagged by ``run`` (its verdicts are recorded under the run's id)."""
        self.project = project
        if self._project_events is not None:
            self._project_events.attach(project)
        self.run = None if run is None else run if isinstance(run, ScoringRun) else run_model(project.folder, run)
        self.run_id = None if self.run is None else project_run_id(project, self.run)
        self._maps.clear()
        self.set_events([])

    def load_run_events(self) -> None:
        """Show every event the run flagged in the project (its ``events.json``; none if never scored)."""
        if self.project is None or self.run is None:
            raise RuntimeError("set_project with a run first")
        stored = read_events(events_dir(self.project, self.run))
        self.set_events([] if stored is None else stored.events)

    def follow(self, session: FlaggingSession) -> None:
        """List ``session``'s events as its video's whenever it flags again (a threshold moved, frames scored)."""
        def on_change(change: SessionChange) -> None:
            if change.events and session.video_id:
                self.set_events(session.events, video_id=session.video_id)

        stop = session.subscribe(on_change)
        self.destroyed.connect(lambda *_: stop())

    def set_events(self, events: Iterable[Event], video_id: str | None = None) -> None:
        """Show ``events`` (verdicts are attached here). With ``video_id``, they replace that video's events
        only (what the chart flags after a threshold move), and the others are kept."""
        events = list(events)
        if video_id is not None:
            kept = [e for e in self._events if e.video_id != video_id]
            events = kept + [e for e in events if e.video_id == video_id]
        self._events = events
        self._attach()
        self._refill()

    def show_video(self, video_id: str | None) -> None:
        """The video "This video" shows (the player's video); ``None`` shows nothing there."""
        self._video_filter = video_id
        self._refill()

    def set_whole_project(self, whole: bool) -> None:
        self.scope.setCurrentIndex(1 if whole else 0)

    @property
    def events(self) -> list[Event]:
        """The events listed now, in table order, verdicts attached."""
        return list(self._shown)

    @property
    def current_event(self) -> Event | None:
        return None if self._current is None else self._shown[self._current]

    @property
    def current_frame(self) -> int | None:
        return self._frame

    # -- moving ---------------------------------------------------------------------------------
    def select_event(self, row: int) -> None:
        """Make row ``row`` the current event and seek to its first frame."""
        if not 0 <= row < len(self._shown):
            return
        self.table.selectRow(row)  # -> _on_selection

    def move_event(self, delta: int) -> None:
        """Go to the next (``delta=1``) or previous (``-1``) event; stays at the ends."""
        if not self._shown:
            return
        row = 0 if self._current is None and delta > 0 else (
            len(self._shown) - 1 if self._current is None else self._current + delta)
        self.select_event(min(max(row, 0), len(self._shown) - 1))

    def step(self, delta: int) -> None:
        """Move ``delta`` frames inside the current event (clamped to its frames) and ask to seek there."""
        event = self.current_event
        if event is None or self._frame is None:
            return
        frame = min(max(self._frame + delta, event.start), event.end - 1)
        if frame != self._frame:
            self._go_to(frame)

    # -- judging -------------------------------------------------------------------------------------
    def record_verdict(self, verdict: str) -> None:
        """Record ``verdict`` (``confirmed``, ``rejected``, ``unsure``) with the note on the current event."""
        event = self.current_event
        if event is None or self.project is None:
            return
        self._edit(lambda: self.project.set_verdict(event.video_id, event.start, event.end, verdict,
                                                    note=self._note(event), run_id=self.run_id,
                                                    score=event.peak_score))

    def confirm_as_interval(self) -> None:
        """Confirm the current event and mark its frames as a ground-truth anomaly interval (one undo)."""
        event = self.current_event
        if event is None or self.project is None:
            return
        self._edit(lambda: self.project.confirm_as_interval(event.video_id, event.start, event.end,
                                                            note=self._note(event), run_id=self.run_id,
                                                            score=event.peak_score))

    def _note(self, event: Event) -> str:
        text = self.note.text().strip()
        return text if text else (event.verdict.note if event.verdict is not None else "")

    def _edit(self, change: Any) -> None:
        try:
            change()
        except Exception as exc:  # noqa: BLE001 - a read-only project, a span past the video: say so
            show_error(self.window(), exc, "Review")
            return
        self.note.clear()

    # -- heat map ------------------------------------------------------------------------------------
    def overlay(self, frame: int) -> np.ndarray | None:
        """The heat-map overlay of ``frame`` of the current event, if its maps are computed."""
        event = self.current_event
        if event is None or not event.start <= frame < event.end:
            return None
        maps = self._maps.get((event.video_id, event.start, event.end))
        if maps is None:
            return None
        video = self.project.videos[event.video_id]
        return error_heatmap(maps[frame - event.start], (video.height, video.width), scale=_heat_scale(maps))

    @property
    def overlay_busy(self) -> bool:
        return self._map_worker is not None and self._map_worker.is_running

    def _on_heatmap_toggled(self, on: bool) -> None:
        if on:
            self._ensure_maps()
        self._emit_overlay()

    def _ensure_maps(self) -> None:
        event = self.current_event
        if event is None or self.run is None or self.project is None:
            return
        key = (event.video_id, event.start, event.end)
        if key in self._maps:
            return
        if self._map_worker is not None:
            self._map_worker.cancel()
        worker = Worker(span_error_maps, self.project, self.run, event.video_id, event.start, event.end,
                        name="error maps")
        worker.finished.connect(lambda maps, key=key: self._maps_ready(key, maps))
        worker.error.connect(self._maps_failed)
        self._map_worker = worker
        worker.start()
        self._update_status()

    def _maps_ready(self, key: tuple[str, int, int], maps: np.ndarray) -> None:
        self._maps[key] = maps
        self._update_status()
        self._emit_overlay()

    def _maps_failed(self, exc: BaseException) -> None:
        self._update_status()
        if not isinstance(exc, Cancelled):
            self.heatmap.setChecked(False)
            show_error(self.window(), exc, "Error heat map")

    def _emit_overlay(self) -> None:
        if self._frame is None:
            return
        self.overlay_changed.emit(self._frame, self.overlay(self._frame) if self.heatmap.isChecked() else None)

    # -- internals -----------------------------------------------------------------------------------
    def _attach(self) -> None:
        if self.project is not None:
            self._events = attach_verdicts(self._events, self.project.verdicts.values(), self.run_id)

    def _refill(self, *_: Any) -> None:
        current = self.current_event
        whole = self.scope.currentIndex() == 1
        self._shown = [e for e in self._events if whole or e.video_id == self._video_filter]
        self.table.blockSignals(True)
        self.table.setRowCount(len(self._shown))
        for row, event in enumerate(self._shown):
            for column, text in enumerate(self._cells(event)):
                item = QTableWidgetItem(text)
                if column in (1, 2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        same = None if current is None else next(
            (n for n, e in enumerate(self._shown) if (e.video_id, e.start, e.end) == (current.video_id, current.start,
                                                                                        current.end)), None)
        self._current = same
        if same is None:
            self.table.clearSelection()
            self._frame = None
        else:
            self.table.selectRow(same)
        self.table.blockSignals(False)
        if current is not None and same is None:
            self.current_changed.emit(None)
        self._update_status()

    def _cells(self, event: Event) -> list[str]:
        video = self.project.videos.get(event.video_id) if self.project is not None else None
        verdict = event.verdict
        mark = "" if verdict is None else verdict.verdict + ("" if event.verdict_is_exact else " (overlap)")
        return [video.name if video is not None else event.video_id, str(event.start), str(event.end - 1),
                f"{event.peak_frame} ({event.peak_score:.4g})", mark, "" if verdict is None else verdict.note]

    def _on_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        row = rows[0].row()
        if row == self._current:
            return
        self._current = row
        event = self._shown[row]
        self.current_changed.emit(event)
        if self.heatmap.isChecked():
            self._ensure_maps()
        self._go_to(event.start)
        self._update_status()

    def _go_to(self, frame: int) -> None:
        event = self.current_event
        self._frame = frame
        self.seek_requested.emit(event.video_id, frame)
        self._emit_overlay()
        self._update_status()

    def _on_project_changed(self, change: Any) -> None:
        if self.project is None:
            return
        if {"verdicts", "intervals", "videos"} & set(change.collections):
            self._attach()
            self._refill()

    def _update_status(self) -> None:
        event = self.current_event
        parts = [f"{len(self._shown)} event{'s' if len(self._shown) != 1 else ''}"]
        if event is not None and self._frame is not None:
            parts.append(f"event {self._current + 1}: frame {self._frame} of {event.start}-{event.end - 1}")
        if self.overlay_busy:
            parts.append("computing error maps...")
        self.status.setText(" · ".join(parts))
