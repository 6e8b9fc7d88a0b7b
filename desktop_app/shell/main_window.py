"""The main window: video list, player with timeline, labelling panel, menus from the action registry.

Every edit goes through the project's command objects (undo/redo), every long job runs in a worker, and
every error lands in a dialog while the window and the project stay open.

Questions to the analyst go through :meth:`MainWindow.ask` and file choices through the ``choose_*``
methods, so tests can answer them without a nested event loop. Project and footage handling lives in
:mod:`desktop_app.library.controller`, cutting and labelling in :mod:`desktop_app.labelling.controller`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
)

from core import __version__
from core.project import (
    Project,
    ProjectEvent,
)
from core.project.exporters import existing_subclip_files, export_subclip_videos
from desktop_app.common.actions import ACTIONS, build_actions, native
from desktop_app.common.project_events import ProjectEvents
from desktop_app.jobs.progress import run_job
from desktop_app.labelling.controller import LabellingMixin
from desktop_app.labelling.label_panel import LabelPanel
from desktop_app.labelling.schema_editor import SchemaEditor
from desktop_app.library.controller import ProjectFilesMixin
from desktop_app.library.video_list import VideoList
from desktop_app.player.goto_dialog import GoToDialog
from desktop_app.player.player import PlayerWidget
from desktop_app.player.timeline import ANOMALY_COLOR, EVENT_COLOR, Band
from desktop_app.shell.shortcuts_dialog import ShortcutsDialog

__all__ = ["MainWindow"]

AUTOSAVE_INTERVAL_S = 20.0
Answer = QMessageBox.StandardButton


def _elide(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,") + "…"


class MainWindow(ProjectFilesMixin, LabellingMixin, QMainWindow):
    """Framewatch's main window; see the module docstring."""

    def __init__(self, settings: QSettings | None = None, autosave_interval_s: float = AUTOSAVE_INTERVAL_S) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.autosave_interval_s = autosave_interval_s
        self.project: Project | None = None
        self.video_id: str | None = None
        self.in_point: int | None = None
        self.out_end: int | None = None  # exclusive: the Out point is frame out_end - 1
        self.selection: tuple[str, str] | None = None  # ("subclip" | "anomaly", id)
        self._discard_on_close = False  # the analyst chose Discard for the open project's edits
        self.events = ProjectEvents(self)
        self.events.changed.connect(self._on_project_event)
        self._class_actions: list[QAction] = []
        self._jobs: list = []  # workers started from this window (cancelled on close)
        #: Events flagged by a model run, per video id: ``(start, end, label)`` with ``end`` exclusive.
        self.flagged_events: dict[str, list[tuple[int, int, str]]] = {}

        self.actions_by_key = build_actions(self, {s.key: getattr(self, s.key) for s in ACTIONS})
        self.player = PlayerWidget(self)
        self.player.position_changed.connect(self._on_position)
        self.player.load_failed.connect(self._on_load_failed)
        self.player.frame_count_changed.connect(lambda _n: self._refresh_bands())
        self.player.speed_changed.connect(lambda _s: self._on_position(self.player.position))
        self.player.timeline.band_selected.connect(self._on_band_selected)
        self.player.timeline.band_edited.connect(self._on_band_edited)
        self.video_list = VideoList(self)
        self.video_list.video_activated.connect(self.select_video)
        self.video_list.remove_requested.connect(self.remove_videos)
        self.video_list.relink_requested.connect(self.relink_video)
        self.label_panel = LabelPanel(self.actions_by_key, self)
        self.label_panel.class_chosen.connect(self.choose_class)
        self.label_panel.subclips.selected.connect(lambda key: self._select(("subclip", key) if key else None))
        self.label_panel.intervals.selected.connect(lambda key: self._select(("anomaly", key) if key else None))
        self.label_panel.subclips.activated.connect(lambda key: self._jump_to("subclip", key))
        self.label_panel.intervals.activated.connect(lambda key: self._jump_to("anomaly", key))
        self.label_panel.subclips.edited.connect(self._on_subclip_cell)
        self.label_panel.intervals.edited.connect(self._on_interval_cell)

        self._build_layout()
        self._build_menus()
        self.setAcceptDrops(True)
        self.resize(1440, 900)
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            self.restoreState(self.settings.value("window/state"))
        self._update_title()
        self._update_actions()

    # == layout ===================================================================================
    def _build_layout(self) -> None:
        self.setCentralWidget(self.player)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowNestedDocks)
        videos = QDockWidget("Videos", self)
        videos.setObjectName("videosDock")
        videos.setWidget(self.video_list)
        videos.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, videos)
        labels = QDockWidget("Labels", self)
        labels.setObjectName("labelsDock")
        labels.setWidget(self.label_panel)
        labels.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, labels)
        self.resizeDocks([videos, labels], [360, 400], Qt.Orientation.Horizontal)
        self.status_position = QLabel("", self)
        self.status_position.setObjectName("statusPosition")
        self.statusBar().addPermanentWidget(self.status_position)

    def _build_menus(self) -> None:
        a = self.actions_by_key
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for key in ("new_project", "open_project"):
            file_menu.addAction(a[key])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(a["open_demo"])
        file_menu.addSeparator()
        for key in ("save_project", "save_project_as"):
            file_menu.addAction(a[key])
        file_menu.addSeparator()
        for key in ("add_videos", "add_frame_folder", "import_ucsd", "import_class_folders"):
            file_menu.addAction(a[key])
        file_menu.addSeparator()
        file_menu.addAction(a["export_subclips"])
        file_menu.addSeparator()
        file_menu.addAction(a["close_window"])
        edit_menu = bar.addMenu("&Edit")
        for key in ("undo", "redo"):
            edit_menu.addAction(a[key])
        edit_menu.addSeparator()
        edit_menu.addAction(a["delete_selected"])
        edit_menu.addSeparator()
        edit_menu.addAction(a["edit_schema"])
        play_menu = bar.addMenu("&Playback")
        for s in ACTIONS:
            if s.group == "Playback":
                play_menu.addAction(a[s.key])
        self.label_menu = bar.addMenu("&Label")
        for s in ACTIONS:
            if s.group == "Label":
                self.label_menu.addAction(a[s.key])
        self.label_menu.addSeparator()
        self.class_menu = self.label_menu.addMenu("&Classes")
        help_menu = bar.addMenu("&Help")
        for key in ("show_shortcuts", "about"):
            help_menu.addAction(a[key])

        tools = QToolBar("Main", self)
        tools.setObjectName("mainToolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for key in ("open_project", "save_project", None, "undo", "redo", None, "add_videos", None,
                    "set_in", "set_out", "create_subclip", "mark_anomaly", None, "edit_schema", "export_subclips"):
            if key is None:
                tools.addSeparator()
            else:
                tools.addAction(a[key])
        self.addToolBar(tools)

    # == playback handlers ==========================================================================
    def play_pause(self) -> None:
        self.player.toggle_play()

    def step_back(self) -> None:
        self.player.step(-1)

    def step_forward(self) -> None:
        self.player.step(1)

    def step_back_10(self) -> None:
        self.player.step(-10)

    def step_forward_10(self) -> None:
        self.player.step(10)

    def go_first(self) -> None:
        self.player.go_first()

    def go_last(self) -> None:
        self.player.go_last()

    def slower(self) -> None:
        self.player.slower()

    def faster(self) -> None:
        self.player.faster()

    def normal_speed(self) -> None:
        self.player.set_speed(1.0)

    def go_to(self) -> None:
        if not self.player.has_video:
            return
        dialog = GoToDialog(self.player.fps, self.player.frame_count, self.player.position, self)
        if dialog.exec() and dialog.frame() is not None:
            self.player.step(dialog.frame() - self.player.position)

    def _on_position(self, frame: int) -> None:
        video = self.video
        name = video.name if video else ""
        if not self.player.has_video:  # opening, or it could not be opened: no frame numbers of another video
            self.status_position.setText(name)
            return
        self.status_position.setText(f"{name}   frame {frame} / {max(0, self.player.frame_count - 1)}   "
                                     f"{self.player.speed:g}x")

    def _track(self, worker):
        self._jobs.append(worker)
        worker.done.connect(lambda w=worker: self._jobs.remove(w) if w in self._jobs else None)
        return worker

    # == schema, undo, export =======================================================================
    def edit_schema(self) -> None:
        if self.project is None:
            return
        editor = SchemaEditor(self.project, self)
        self.events.changed.connect(editor.refresh)
        editor.exec()
        self.events.changed.disconnect(editor.refresh)

    def undo(self) -> None:
        if self.project is not None:
            self._edit(self.project.undo)

    def redo(self) -> None:
        if self.project is not None:
            self._edit(self.project.redo)

    def export_subclips_to(self, folder: str | Path, only_current_video: bool = False):
        """Write subclips to ``folder`` in a worker (progress dialog with Cancel); returns the worker.

        Asks before replacing files an earlier export left there; "No" starts nothing (returns ``None``).
        """
        if self.project is None:
            return None
        clips = list(self.project.subclips.values())
        if only_current_video:
            clips = [c for c in clips if c.video_id == self.video_id]
        if not clips:
            self.statusBar().showMessage("No subclips to export", 4000)
            return None
        ids = [c.id for c in clips]
        existing = existing_subclip_files(self.project, Path(folder), ids)
        if existing:  # never replace files without asking; "No" leaves them (and the export) alone
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            answer = self.ask("Replace existing files?",
                              f"{existing[0].name}{more} already exist in {folder}.\n\nReplace them with the "
                              f"exported subclips?", Answer.Yes | Answer.No, Answer.No)
            if answer != Answer.Yes:
                self.statusBar().showMessage("Export not started: existing files left as they were", 6000)
                return None
        worker = run_job(self, f"Exporting {len(ids)} subclips", export_subclip_videos, self.project, Path(folder), ids,
                         overwrite=bool(existing),
                         on_finished=lambda files: self.statusBar().showMessage(
                             f"Exported {len(files)} subclips to {folder}", 8000),
                         on_cancelled=lambda: self.statusBar().showMessage("Export cancelled", 5000))
        return self._track(worker)

    def export_subclips(self) -> None:
        folder = self.choose_folder("Export subclips to folder")
        if folder is not None:
            self.export_subclips_to(folder)

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.class_shortcut_rows(), self).exec()

    def class_shortcut_rows(self) -> list[tuple[str, str, str]]:
        if self.project is None:
            return [("Label", "Label In..Out with a class (keys from the label schema)", "1-9")]
        return [("Label", f"Label In..Out (or the selected subclip) as '{c.name}'", native(c.shortcut))
                for c in self.project.classes.values() if c.shortcut]

    def about(self) -> None:
        QMessageBox.about(self, "About Framewatch",
                          f"<b>Framewatch {__version__}</b><p>Cut and label footage in this window. Train "
                          "spatiotemporal models, score footage for anomalies, evaluate models and roll out "
                          "predicted frames with the <tt>framewatch</tt> command.</p><p>Demo footage: UCSD Anomaly Detection Dataset, Ped2 "
                          "(Mahadevan et al., CVPR 2010).</p>")

    # == refresh ===================================================================================
    @Slot(object)
    def _on_project_event(self, event: ProjectEvent) -> None:
        if self.project is None:
            return
        cols = event.collections
        if "videos" in cols:
            if self.video_id is not None and self.video_id not in self.project.videos:
                self.video_id = None
                self.player.unload()
            self.video_list.refresh()
            if self.video_id is None and self.video_list.video_ids():
                self.video_list.select_video(self.video_list.video_ids()[0])
        elif cols & {"subclips", "intervals"}:
            self.video_list.refresh()
        if "classes" in cols or "targets" in cols:
            self._refresh_schema()
        if cols & {"subclips", "intervals", "classes", "verdicts", "videos"}:
            if self.selection is not None:
                kind, key = self.selection
                coll = self.project.subclips if kind == "subclip" else self.project.intervals
                if key not in coll:
                    self.selection = None
            self._refresh_labels()
        self._update_title()
        self._update_actions()
        if event.kind in ("undo", "redo"):
            self.statusBar().showMessage(f"{event.kind.capitalize()}: {event.text}", 3000)

    def _refresh_schema(self) -> None:
        classes = dict(self.project.classes) if self.project is not None else {}
        self.label_panel.set_classes(classes)
        for action in self._class_actions:
            self.removeAction(action)
            action.deleteLater()
        self._class_actions.clear()
        self.class_menu.clear()
        for cls in classes.values():
            action = QAction(f"Label as {cls.name}", self)
            if cls.shortcut:
                action.setShortcut(QKeySequence(cls.shortcut))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _c=False, name=cls.name: self.choose_class(name))
            self.addAction(action)
            self.class_menu.addAction(action)
            self._class_actions.append(action)

    def _refresh_labels(self) -> None:
        project, vid = self.project, self.video_id
        if project is None or vid is None:
            self.label_panel.subclips.set_subclips([], {})
            self.label_panel.intervals.set_intervals([])
            self.player.timeline.set_bands([])
            self._refresh_span()
            return
        classes = dict(project.classes)
        self.label_panel.subclips.set_subclips(project.subclips_of(vid), classes)
        self.label_panel.intervals.set_intervals(project.intervals_of(vid))
        self._refresh_bands()
        self._refresh_span()
        if self.selection is not None:
            self._select(self.selection)

    def _refresh_bands(self) -> None:
        project, vid = self.project, self.video_id
        if project is None or vid is None:
            self.player.timeline.set_bands([])
            return
        bands: list[Band] = []
        for s in project.subclips_of(vid):
            cls = project.classes.get(s.label) if s.label else None
            text = s.label or (f"{s.value:g}" if s.value is not None else "")
            bands.append(Band("subclip", s.id, s.start, s.end, cls.color if cls else "#8b949e", text))
        for iv in project.intervals_of(vid):
            bands.append(Band("anomaly", iv.id, iv.start, iv.end, ANOMALY_COLOR, "anomaly"))
        colors = {"confirmed": ANOMALY_COLOR, "rejected": "#6b7280", "unsure": EVENT_COLOR}
        reviewed = set()
        for v in project.verdicts_of(vid):
            reviewed.add((v.start, v.end))
            bands.append(Band("event", v.id, v.start, v.end, colors.get(v.verdict, EVENT_COLOR), v.verdict))
        for n, (start, end, label) in enumerate(self.flagged_events.get(vid, [])):
            if (start, end) not in reviewed:
                bands.append(Band("event", f"flag{n}", start, end, EVENT_COLOR, label or "flagged"))
        self.player.timeline.set_bands(bands)

    def set_flagged_events(self, video_id: str, events: list[tuple[int, int, str]]) -> None:
        """Show events flagged by a model run on the timeline's Events lane (``[start, end)``, label)."""
        self.flagged_events[video_id] = list(events)
        if video_id == self.video_id:
            self._refresh_bands()

    def _refresh_span(self) -> None:
        self.player.timeline.set_in_out(self.in_point, self.out_end)
        self.label_panel.set_span(self.in_point, self.out_end)
        self._update_actions()

    def _update_title(self) -> None:
        if self.project is None:
            self.setWindowTitle(f"Framewatch {__version__}")
            self.setWindowModified(False)
            return
        where = "scratch project, not saved: File > Save As keeps it" if self.is_scratch() else self.project.folder.name
        read_only = " (read-only)" if self.project.read_only else ""
        self.setWindowTitle(f"{self.project.name} [*]{read_only} — {where} — Framewatch")
        self.setWindowModified(self.project.dirty)

    def _update_actions(self) -> None:
        a = self.actions_by_key
        has_project = self.project is not None
        has_video = has_project and self.video_id is not None
        stack = self.project.undo_stack if has_project else None
        a["undo"].setEnabled(bool(stack and stack.can_undo))
        a["redo"].setEnabled(bool(stack and stack.can_redo))
        for key, verb, can, text in (("undo", "Undo", stack and stack.can_undo, stack and stack.undo_text),
                                     ("redo", "Redo", stack and stack.can_redo, stack and stack.redo_text)):
            # The menu names the edit (shortened: an import names every video); the toolbar button
            # keeps its one word so the buttons after it do not slide out of sight.
            what = _elide(text) if can else ""
            a[key].setText(f"&{verb} {what.replace('&', '&&')}".rstrip())
            a[key].setIconText(verb)
            a[key].setToolTip(f"{verb} {what}".rstrip() + f" ({native(a[key].shortcut().toString())})")
        writable = has_project and not self.project.read_only
        for key in ("save_project_as", "export_subclips"):
            a[key].setEnabled(has_project)
        for key in ("save_project", "add_videos", "add_frame_folder", "import_ucsd", "import_class_folders",
                    "edit_schema"):  # a read-only project (open for writing elsewhere) cannot change
            a[key].setEnabled(writable)
        for key in ("set_in", "set_out", "clear_in_out"):
            a[key].setEnabled(has_video)
        for key in ("create_subclip", "mark_anomaly", "enter_value"):
            a[key].setEnabled(has_video and writable)
        a["delete_selected"].setEnabled(self.selection is not None and writable)

    # == closing ===================================================================================
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.maybe_save():
            event.ignore()
            return
        for worker in list(self._jobs):
            worker.cancel()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.player.unload()
        self.events.detach()
        if self.project is not None:
            self._close_project(self.project)
        event.accept()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        QTimer.singleShot(0, self.player.view.setFocus)  # keyboard-first: keys go to the player
