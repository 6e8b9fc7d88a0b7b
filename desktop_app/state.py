"""The app state that the desktop app's features share, and the only way they talk to each other.

One :class:`AppState` per main window. A feature (a controller in ``desktop_app/<feature>/``) reads
the attributes below, changes them through the ``set_*`` / ``request_*`` methods, and listens to the
signals; it never reaches into another feature's widgets. Every signal is emitted on the GUI thread.

Project and footage
    ``project`` (:class:`core.project.Project` or ``None``); :meth:`set_project` -> ``project_changed(project)``
    (``video_id`` and ``selection`` are cleared first). ``project_edited(ProjectEvent)``: every change of
    the open project (edits, undo, redo, imports made in a worker), relayed to the GUI thread.
    ``video_id`` (``None``: no video); :meth:`set_video` -> ``video_changed(video_id or "")``; ``video``
    is the :class:`core.project.Video` shown.

Playhead (the player publishes, the others ask)
    ``position`` (0-based frame shown) -> ``position_changed(int)``; ``frame_count`` (0 while no video
    is shown; ``has_video``) -> ``frame_count_changed(int)``. :meth:`request_seek` (pauses, then shows
    the frame) -> ``seek_requested(int)``; :meth:`request_pause` -> ``pause_requested()``;
    :meth:`request_player_focus` -> ``player_focus_requested()`` (keys go back to the player).

Selection and the In/Out span
    ``selection``: ``(kind, key)`` of the selected band (``"subclip"``, ``"anomaly"``, ``"normal"``, ``"event"``) or
    ``None``; :meth:`set_selection` -> ``selection_changed(object)``. ``span``: ``(in_point, out_end)``
    with ``out_end`` exclusive, either may be ``None``; :meth:`set_span` -> ``span_changed(object)``.
    ``band_edit_requested(kind, key, start, end)``: the analyst dragged a band to ``[start, end)``.

Model run
    ``model_run``: the run chosen for scoring and review (a run name, or ``None``);
    :meth:`set_model_run` -> ``model_run_changed(str)`` (``""`` for none). The choice is remembered per
    project folder in the settings, and :meth:`remembered_model_run` gives it back when the project is
    opened again (after a restart too).

Frame overlay
    ``frame_overlay``: an RGBA ``uint8`` image ``(height, width, 4)`` the player draws over the frame it
    shows (a heat map), or ``None``; :meth:`set_frame_overlay` -> ``frame_overlay_changed(object)``. The
    feature that sets it keeps it in step with ``position`` (clears it when it no longer applies).

Timeline lanes
    ``lanes``: lane name -> list of :class:`LaneBand` (plain records: start, end exclusive, colour,
    text, key). A feature fills its lanes with :meth:`set_lane` -> ``lane_changed(name)``; the player
    draws them: the lanes named in :data:`TIMELINE_LANES` ("Labels", "Anomalies", "Events") always,
    then every other lane in the order it was first set (its bands read-only, overlapping ones stacked).
    A band keeps a ``kind`` of its own where :data:`SHARED_LANE_KINDS` lets its lane carry it (the
    "normal" spans of normal footage ride in the Labels lane).

Messages, questions and jobs
    :meth:`show_status` -> ``status_message(text, milliseconds)`` (the status bar). ``ask``,
    ``choose_item`` and the ``choose_*`` file methods put questions and file choices to the analyst, and
    ``open_url`` hands a file to the desktop's program for it; tests replace them on the
    instance so that no dialog waits for input and nothing is launched. :meth:`track` keeps a :class:`desktop_app.jobs.Worker`
    until it is done (``jobs``); :meth:`cancel_jobs` cancels every one (the window does on close).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from core.project import Project, Video
from desktop_app.common.project_events import ProjectEvents

__all__ = ["SHARED_LANE_KINDS", "TIMELINE_LANES", "AppState", "LaneBand"]

#: The lanes the timeline draws, top to bottom, and the band kind each one carries.
TIMELINE_LANES = {"Labels": "subclip", "Anomalies": "anomaly", "Events": "event"}
#: Band kinds drawn in the lane of another kind: ``{band kind: the lane's kind}``. Normal footage
#: (:class:`core.project.NormalSpan`) is marked from In/Out like a subclip and shown beside them.
SHARED_LANE_KINDS = {"normal": "subclip"}


@dataclass(frozen=True)
class LaneBand:
    """One coloured interval of a timeline lane: frames ``[start, end)``, ``color`` as ``#rrggbb``, the
    ``text`` drawn on it; ``key`` names what it shows and ``kind`` is its lane's band kind (set by the
    timeline from :data:`TIMELINE_LANES`; the record every feature hands the timeline)."""

    start: int
    end: int
    color: str
    text: str = ""
    key: str = ""
    kind: str = ""


def _model_run_key(project_folder: Path) -> str:
    """The settings key of a project's chosen model run: the folder's resolved path, hashed (settings keys
    cannot hold every character a path can)."""
    digest = hashlib.sha256(str(Path(project_folder).resolve()).encode("utf-8")).hexdigest()[:24]
    return f"model_run/{digest}"


class AppState(QObject):
    """The shared state of one main window; see the module docstring."""

    project_changed = Signal(object)  # Project | None
    project_edited = Signal(object)  # ProjectEvent
    video_changed = Signal(str)  # video id, "" for none
    position_changed = Signal(int)
    frame_count_changed = Signal(int)
    seek_requested = Signal(int)
    pause_requested = Signal()
    player_focus_requested = Signal()
    selection_changed = Signal(object)  # (kind, key) | None
    span_changed = Signal(object)  # (in_point, out_end)
    band_edit_requested = Signal(str, str, int, int)  # kind, key, start, end (exclusive)
    model_run_changed = Signal(str)
    lane_changed = Signal(str)
    frame_overlay_changed = Signal(object)  # RGBA uint8 (H, W, 4) | None
    status_message = Signal(str, int)

    def __init__(self, settings: QSettings, dialog_parent: QWidget | None = None) -> None:
        super().__init__(dialog_parent)
        self.settings = settings
        self.dialog_parent = dialog_parent
        self.project: Project | None = None
        self.video_id: str | None = None
        self.position = 0
        self.frame_count = 0
        self.selection: tuple[str, str] | None = None
        self.span: tuple[int | None, int | None] = (None, None)
        self.model_run: str | None = None
        self.lanes: dict[str, list[LaneBand]] = {}
        self.frame_overlay = None  # RGBA uint8 (H, W, 4) | None
        self.jobs: list = []  # Workers started by the features, dropped when done
        self._events = ProjectEvents(self)
        self._events.changed.connect(self.project_edited)

    # -- project and footage ------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        self._events.detach()
        self.project = project
        self.video_id = None
        if self.selection is not None:
            self.set_selection(None)
        self._events.attach(project)
        self.project_changed.emit(project)

    def detach_project_events(self) -> None:
        """Stop relaying the open project's events (the window is closing)."""
        self._events.detach()

    def set_video(self, video_id: str | None) -> None:
        if video_id == self.video_id:
            return
        self.video_id = video_id
        if self.selection is not None:
            self.set_selection(None)
        self.video_changed.emit(video_id or "")

    @property
    def video(self) -> Video | None:
        if self.project is None or self.video_id is None:
            return None
        return self.project.videos.get(self.video_id)

    # -- playhead -----------------------------------------------------------------------------------
    @property
    def has_video(self) -> bool:
        return self.frame_count > 0

    def set_position(self, frame: int) -> None:
        self.position = int(frame)
        self.position_changed.emit(self.position)

    def set_frame_count(self, count: int) -> None:
        self.frame_count = int(count)
        self.frame_count_changed.emit(self.frame_count)

    def request_seek(self, frame: int) -> None:
        self.seek_requested.emit(int(frame))

    def request_pause(self) -> None:
        self.pause_requested.emit()

    def request_player_focus(self) -> None:
        self.player_focus_requested.emit()

    # -- selection, span, model run, lanes ----------------------------------------------------------
    def set_selection(self, selection: tuple[str, str] | None) -> None:
        self.selection = selection
        self.selection_changed.emit(selection)

    def set_span(self, in_point: int | None, out_end: int | None) -> None:
        self.span = (in_point, out_end)
        self.span_changed.emit(self.span)

    def set_model_run(self, run: str | None) -> None:
        self.model_run = run
        if self.project is not None:
            self.settings.setValue(_model_run_key(self.project.folder), run or "")
        self.model_run_changed.emit(run or "")

    def remember_scorer(self, run: str, scorer: str) -> None:
        """Keep ``scorer`` as the one chosen for model run ``run`` of the open project (across restarts)."""
        if self.project is not None and run:
            self.settings.setValue(f"{_model_run_key(self.project.folder)}/scorer/{Path(run).name}", scorer)

    def remembered_scorer(self, run: str) -> str | None:
        """The scorer last chosen for model run ``run`` of the open project (``None``: none chosen yet)."""
        if self.project is None or not run:
            return None
        return str(self.settings.value(f"{_model_run_key(self.project.folder)}/scorer/{Path(run).name}", "")) or None

    def remembered_model_run(self) -> str | None:
        """The run last chosen for the open project's folder (``None``: none, or no project). It may have
        been deleted since: the caller checks that it still exists."""
        if self.project is None:
            return None
        return str(self.settings.value(_model_run_key(self.project.folder), "")) or None

    def set_lane(self, name: str, bands: list[LaneBand]) -> None:
        self.lanes[name] = list(bands)
        self.lane_changed.emit(name)

    def set_frame_overlay(self, rgba) -> None:
        if rgba is None and self.frame_overlay is None:
            return
        self.frame_overlay = rgba
        self.frame_overlay_changed.emit(rgba)

    # -- messages -----------------------------------------------------------------------------------
    def show_status(self, text: str, milliseconds: int = 4000) -> None:
        self.status_message.emit(text, milliseconds)

    # -- questions and file choices (tests replace these on the instance) ---------------------------
    def ask(self, title: str, text: str, buttons: QMessageBox.StandardButton,
            default: QMessageBox.StandardButton) -> QMessageBox.StandardButton:
        return QMessageBox.question(self.dialog_parent, title, text, buttons, default)

    def open_url(self, url: QUrl) -> bool:
        """Open ``url`` (a local file) with the desktop's program for it; ``False`` when none was started."""
        return QDesktopServices.openUrl(url)

    def choose_item(self, title: str, label: str, items: list[str], current: int = 0) -> str | None:
        """One of ``items`` picked from a list (``None``: cancelled)."""
        item, ok = QInputDialog.getItem(self.dialog_parent, title, label, items, current, False)
        return item if ok else None

    def choose_folder(self, title: str) -> Path | None:
        folder = QFileDialog.getExistingDirectory(self.dialog_parent, title, self._last_dir())
        return self._remember_dir(Path(folder)) if folder else None

    def choose_files(self, title: str, filters: str) -> list[Path]:
        files, _ = QFileDialog.getOpenFileNames(self.dialog_parent, title, self._last_dir(), filters)
        if files:
            self._remember_dir(Path(files[0]).parent)
        return [Path(f) for f in files]

    def choose_new_folder(self, title: str) -> Path | None:
        folder, _ = QFileDialog.getSaveFileName(self.dialog_parent, title, self._last_dir(), "Project folder (*)")
        return self._remember_dir(Path(folder)) if folder else None

    def choose_save_file(self, title: str, filters: str) -> Path | None:
        file, _ = QFileDialog.getSaveFileName(self.dialog_parent, title, self._last_dir(), filters)
        return self._remember_dir(Path(file)) if file else None

    def _last_dir(self) -> str:
        return str(self.settings.value("last_dir", str(Path.home())))

    def _remember_dir(self, path: Path) -> Path:
        self.settings.setValue("last_dir", str(path.parent if path.is_file() else path))
        return path

    # -- jobs ---------------------------------------------------------------------------------------
    def track(self, worker):
        """Keep ``worker`` in ``jobs`` until it is done; returns it."""
        self.jobs.append(worker)
        worker.done.connect(lambda w=worker: self.jobs.remove(w) if w in self.jobs else None)
        return worker

    def cancel_jobs(self) -> None:
        for worker in list(self.jobs):
            worker.cancel()

