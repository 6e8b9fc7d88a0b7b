"""The main window: it assembles the features' docks, menus, toolbar and status bar, and nothing more.

Each feature is a controller that owns its actions and widgets (:mod:`desktop_app.library`,
:mod:`desktop_app.player`, :mod:`desktop_app.labelling`, :mod:`desktop_app.review`, :mod:`desktop_app.training`,
:mod:`desktop_app.prediction`); they share one :class:`~desktop_app.state.AppState`
(:attr:`MainWindow.state`) and never call each other. The window places their widgets, lays their
actions out in menus from the action registry, keeps the title, and on close asks about unsaved
changes, cancels running jobs and remembers its geometry. It opens inside the screen's available area
and the video keeps priority for room: when the window is small the docks give way first
(:mod:`desktop_app.shell.window_geometry`). The View menu shows, hides and floats the docks, and Reset
Layout puts them back where they started.

Questions to the analyst go through ``window.state.ask`` and file choices through ``state.choose_*``,
so tests can answer them without a nested event loop.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar, QToolBar, QWidget

from core import __version__
from core.project.project import DEFAULT_AUTOSAVE_INTERVAL_S
from desktop_app.common.actions import ACTIONS, GROUPS, build_actions, merge_actions
from desktop_app.labelling import LabellingController
from desktop_app.library import LibraryController
from desktop_app.player import PlayerController
from desktop_app.prediction import PredictionController
from desktop_app.review import ReviewController
from desktop_app.shell.help import open_user_guide, show_about, show_shortcuts
from desktop_app.shell.window_geometry import DEFAULT_SIZE, fitted_geometry, video_room
from desktop_app.state import AppState
from desktop_app.training import TrainingController

__all__ = ["MainWindow"]

#: The menus, in order: action keys, ``None`` for a separator, "recent" and "classes" for the features'
#: submenus, a group name for every action of that group. The View menu starts with a toggle per dock.
MENUS: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    ("&File", ("new_project", "open_project", "recent", "open_demo", None, "save_project", "save_project_as", None,
               "add_videos", "add_frame_folder", "import_ucsd", "import_class_folders", None, "export_subclips", "export_labels_csv",
               "export_labels_json", None,
               "close_window")),
    ("&Edit", ("undo", "redo", None, "delete_selected", None, "edit_schema")),
    ("&Playback", ("Playback",)),
    ("&Label", ("Label", None, "classes")),
    ("&Review", ("score_video", "score_all", "cancel_scoring", "choose_run", None, "next_event", "previous_event",
                 "event_frame_forward", "event_frame_back", None, "confirm_event", "reject_event", "unsure_event",
                 "confirm_as_interval", None, "learn_from_rejected", None, "toggle_heatmap", None, "export_scores", "export_anomaly_video")),
    ("&Model", ("train_model", "cancel_training", None, "show_predictions", "classify_video",
                "export_annotated_video")),
    ("&View", ("reset_layout",)),
    ("&Help", ("user_guide", "show_shortcuts", "about")),
)
DOCK_FEATURES = (QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
                 | QDockWidget.DockWidgetFeature.DockWidgetFloatable)


class MainWindow(QMainWindow):
    """Framewatch's main window; see the module docstring."""

    def __init__(self, settings: QSettings | None = None, autosave_interval_s: float = DEFAULT_AUTOSAVE_INTERVAL_S) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.state = AppState(self.settings, self)
        self.state.status_message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.library = LibraryController(self.state, self, self.settings, autosave_interval_s)
        self.playback = PlayerController(self.state, self)
        self.labelling = LabellingController(self.state, self)
        self.review = ReviewController(self.state, self)
        self.training = TrainingController(self.state, self)
        self.training.scoring_now = lambda: self.review.scoring
        self.prediction = PredictionController(self.state, self)
        shell_actions = build_actions(self, {
            "close_window": self.close,
            "user_guide": lambda: open_user_guide(self.state),
            "show_shortcuts": lambda: show_shortcuts(self, self.labelling.class_shortcut_rows()),
            "about": lambda: show_about(self),
            "reset_layout": self.reset_layout,
        })
        self.actions_by_key = merge_actions(self.library.actions, self.playback.actions, self.labelling.actions,
                                            self.review.actions, self.training.actions, self.prediction.actions,
                                            shell_actions)
        # The widgets the window places (tests and benchmarks drive them through these names).
        self.player = self.playback.player
        self.video_list = self.library.video_list
        self.review.selected_videos = self.video_list.selected_video_ids  # Score on Ray: the selected videos
        self.label_panel = self.labelling.label_panel
        self.status_position = self.playback.status_label
        self.status_read_only = self.library.read_only_label
        self.state.project_changed.connect(lambda _p: self._update_title())
        self.state.project_edited.connect(lambda _e: self._update_title())

        self.docks: dict[str, QDockWidget] = {}
        self._video_room_pending = False
        self._build_layout()
        self._build_menus()
        self._default_layout = self.saveState()
        self.setAcceptDrops(True)
        self.resize(DEFAULT_SIZE)
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            self.restoreState(self.settings.value("window/state"))  # showEvent hides the tab bars it leaves
        self.fit_to_screen()
        self._update_title()

    # == layout ===================================================================================
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(DOCK_FEATURES)
        self.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def _build_layout(self) -> None:
        self.setCentralWidget(self.player)
        # no AnimatedDocks: an animated layout change lands after the video has been given its room, undoing it
        self.setDockOptions(QMainWindow.DockOption.AllowNestedDocks)
        videos = self._dock("Videos", "videosDock", self.video_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        labels = self._dock("Labels", "labelsDock", self.label_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        predicted = self._dock("Predicted frames", "predictedFramesDock", self.prediction.panel,
                               Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(labels, predicted)  # behind Labels; Model > Predicted Frames raises it
        labels.raise_()
        # the object name is what saved layouts know the dock by (it was titled "Regularity" before)
        chart = self._dock("Error chart", "regularityDock", self.review.chart_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        events = self._dock("Events", "eventsDock", self.review.review, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.splitDockWidget(chart, events, Qt.Orientation.Horizontal)
        training = self._dock("Training", "trainingDock", self.training.panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(chart, training)  # behind the Error chart; Model > Train a Model raises it
        chart.raise_()
        self.resizeDocks([videos, labels], [360, 400], Qt.Orientation.Horizontal)
        self.resizeDocks([chart], [220], Qt.Orientation.Vertical)
        self.resizeDocks([chart, events], [700, 560], Qt.Orientation.Horizontal)  # the Events table needs room too
        self.statusBar().addPermanentWidget(self.status_position)
        self.statusBar().addPermanentWidget(self.status_read_only)

    def _build_menus(self) -> None:
        a = self.actions_by_key
        submenus = {"recent": self.library.recent_menu, "classes": self.labelling.class_menu}
        for title, entries in MENUS:
            menu = self.menuBar().addMenu(title)
            menu.setToolTipsVisible(True)  # a disabled action's tooltip says why (Score All on Ray without Ray)
            if title == "&View":
                self.view_menu = menu
                entries = tuple(d.toggleViewAction() for d in self.docks.values()) + (None, *entries)
            for entry in entries:
                if entry is None:
                    menu.addSeparator()
                elif isinstance(entry, QAction):
                    menu.addAction(entry)
                elif entry in submenus:
                    menu.addMenu(submenus[entry])
                elif entry in GROUPS:
                    for s in ACTIONS:
                        if s.group == entry:
                            menu.addAction(a[s.key])
                else:
                    menu.addAction(a[entry])

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
        self._tool_bars = (tools,)

    def reset_layout(self) -> None:
        """Every dock back in its first place, docked and shown."""
        for dock in self.docks.values():
            dock.setFloating(False)
        self.restoreState(self._default_layout)
        for dock in self.docks.values():
            dock.show()
        QTimer.singleShot(0, self.hide_stale_tab_bars)

    def fit_to_screen(self) -> None:
        """Shrink and move the window (unless maximised) into the available area of its screen."""
        if self.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
            return
        rect = self.geometry()
        screen = QGuiApplication.screenAt(rect.center()) or self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            self.setGeometry(fitted_geometry(rect, screen.availableGeometry(), self.minimumSizeHint()))

    def _schedule_video_room(self) -> None:
        if not self._video_room_pending:
            self._video_room_pending = True
            QTimer.singleShot(0, self, self.give_video_room)  # not after the window is gone

    def give_video_room(self) -> None:
        """Shrink the docks beside and below the player (down to their minimum sizes) until the player has
        its share of the window (:func:`~desktop_app.shell.window_geometry.video_room`). It runs after the
        window changes size and after its dock layout is asked to change (a dock shown, raised or given
        more room with ``resizeDocks``)."""
        self._video_room_pending = False
        bars = sum(bar.sizeHint().height() for bar in (self.menuBar(), self.statusBar(), *self._tool_bars)
                   if not bar.isHidden())
        room = video_room(self.size(), bars)
        for orientation, areas, short in (
                (Qt.Orientation.Vertical, (Qt.DockWidgetArea.TopDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea),
                 room.height() - self.player.height()),
                (Qt.Orientation.Horizontal, (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea),
                 room.width() - self.player.width())):
            if short <= 0:
                continue
            vertical = orientation == Qt.Orientation.Vertical
            chains = {area: self._docks_in_line(area, vertical) for area in areas}
            total = sum(size for chain in chains.values() for _dock, size in chain)
            docks = [dock for chain in chains.values() for dock, _size in chain]
            if total > 0:  # each area, and each dock in it, gives way in proportion to its size
                self.resizeDocks(docks, [max(1, size - round(short * size / total))
                                         for chain in chains.values() for _dock, size in chain], orientation)

    def _docks_in_line(self, area: Qt.DockWidgetArea, vertical: bool) -> list[tuple[QDockWidget, int]]:
        """The shown docks of ``area`` one after another along its height (``vertical``) or width, with
        the sizes Qt's ``resizeDocks`` gives them: of docks side by side, which share that size, only
        one (asked for two, Qt keeps neither); a tabbed dock's size counts its tab bar's height."""
        tab_bar = max((bar.sizeHint().height() for bar in self.findChildren(
            QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly) if bar.isVisible()), default=0)

        def span(dock: QDockWidget) -> tuple[int, int]:
            start, size = (dock.y(), dock.height()) if vertical else (dock.x(), dock.width())
            return start, start + size + (tab_bar if vertical and self.tabifiedDockWidgets(dock) else 0)

        shown = sorted(((span(d), d) for d in self.docks.values() if self.dockWidgetArea(d) == area
                        and d.isVisible() and not d.isFloating() and not d.visibleRegion().isEmpty()),
                       key=lambda item: item[0])
        line: list[tuple[QDockWidget, int]] = []
        end = None
        for (start, stop), dock in shown:
            if end is None or start >= end:
                line.append((dock, stop - start))
                end = stop
        return line

    def _update_title(self) -> None:
        project = self.state.project
        if project is None:
            self.setWindowTitle(f"Framewatch {__version__}")
            self.setWindowModified(False)
            return
        where = ("scratch project, not saved: File > Save As keeps it" if self.library.is_scratch()
                 else project.folder.name)
        read_only = " (read-only)" if project.read_only else ""
        self.setWindowTitle(f"{project.name} [*]{read_only} — {where} — Framewatch")
        self.setWindowModified(project.dirty)

    # == Qt events =================================================================================
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.library.drop_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.library.maybe_save():
            event.ignore()
            return
        self.state.cancel_jobs()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.player.unload()
        self.state.detach_project_events()
        self.library.close_project()
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._schedule_video_room()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # docks shown, raised, resized or moved
            self._schedule_video_room()
        return super().event(event)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        QTimer.singleShot(0, self.state.request_player_focus)  # keyboard-first: keys go to the player
        QTimer.singleShot(0, self.hide_stale_tab_bars)

    def hide_stale_tab_bars(self) -> None:
        """Hide the dock tab bars Qt no longer uses. Tabifying a second group of docks, and restoring a
        layout, leaves copies of a group's tab bar behind, never hidden: they show through a dock's
        transparent labels ("Error chart" under "Threshold") or lie on top of the real bar and swallow its
        clicks. Every bar is hidden, then the layout is applied again, which shows the bars in use."""
        shown = [dock for dock in self.docks.values()
                 if dock.isVisible() and not dock.isFloating() and not dock.visibleRegion().isEmpty()]
        sizes = [dock.size() for dock in shown]
        for bar in self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            bar.hide()
        layout = self.layout()
        layout.setGeometry(layout.geometry())  # QMainWindowLayout re-applies its state: tab bars in use show
        # ... from the docks' size hints: put back the sizes they had
        self.resizeDocks(shown, [size.width() for size in sizes], Qt.Orientation.Horizontal)
        self.resizeDocks(shown, [size.height() for size in sizes], Qt.Orientation.Vertical)
