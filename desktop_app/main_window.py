"""The main window: video list, player with timeline, labelling panel, menus from the action registry.

Every edit goes through the project's command objects (undo/redo), every long job runs in a worker, and
every error lands in a dialog while the window and the project stay open.

Questions to the analyst go through :meth:`MainWindow.ask` and file choices through the ``choose_*``
methods, so tests can answer them without a nested event loop.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QToolBar,
)

from core import __version__
from core.errors import FramewatchError
from core.project import (
    AddEntities,
    Macro,
    Project,
    ProjectError,
    ProjectEvent,
    ProjectValidationError,
    ReplaceEntities,
    Video,
)
from core.project.videos import probe_video
from desktop_app import demo
from desktop_app.actions import ACTIONS, build_actions, native
from desktop_app.dialogs import GoToDialog, ShortcutsDialog, ValueDialog
from desktop_app.error_dialog import show_error
from desktop_app.export import export_subclips, plan_export
from desktop_app.jobs_ui import run_job
from desktop_app.label_panel import LabelPanel
from desktop_app.player import PlayerWidget
from desktop_app.project_events import ProjectEvents
from desktop_app.schema_editor import SchemaEditor
from desktop_app.timeline import ANOMALY_COLOR, EVENT_COLOR, Band
from desktop_app.video_list import VideoList

MAX_RECENT = 10
AUTOSAVE_INTERVAL_S = 20.0
Answer = QMessageBox.StandardButton


def probe_videos(paths: list[Path], fps: float | None = None, progress=None, cancel=None) -> tuple[list[Video], list[str]]:
    """Probe (scan) each path in turn; returns the videos and ``"path: problem"`` for those that failed."""
    from core.jobs import report

    videos: list[Video] = []
    problems: list[str] = []
    for n, path in enumerate(paths):
        report(progress, n, len(paths), f"reading {Path(path).name}")
        try:
            videos.append(probe_video(path, fps=fps if Path(path).is_dir() else None, cancel=cancel))
        except FramewatchError as exc:
            from core.errors import Cancelled

            if isinstance(exc, Cancelled):
                raise
            problems.append(str(exc))
    report(progress, len(paths), len(paths), "done")
    return videos, problems


class MainWindow(QMainWindow):
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
        self.player.timeline.band_selected.connect(self._on_band_selected)
        self.player.timeline.band_edited.connect(self._on_band_edited)
        self.video_list = VideoList(self)
        self.video_list.video_activated.connect(self.select_video)
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

    # == questions and file choices (tests replace these) ==========================================
    def ask(self, title: str, text: str, buttons: QMessageBox.StandardButton,
            default: QMessageBox.StandardButton) -> QMessageBox.StandardButton:
        return QMessageBox.question(self, title, text, buttons, default)

    def choose_folder(self, title: str) -> Path | None:
        folder = QFileDialog.getExistingDirectory(self, title, self._last_dir())
        return self._remember_dir(Path(folder)) if folder else None

    def choose_files(self, title: str, filters: str) -> list[Path]:
        files, _ = QFileDialog.getOpenFileNames(self, title, self._last_dir(), filters)
        if files:
            self._remember_dir(Path(files[0]).parent)
        return [Path(f) for f in files]

    def choose_new_folder(self, title: str) -> Path | None:
        folder, _ = QFileDialog.getSaveFileName(self, title, self._last_dir(), "Project folder (*)")
        return self._remember_dir(Path(folder)) if folder else None

    def _last_dir(self) -> str:
        return str(self.settings.value("last_dir", str(Path.home())))

    def _remember_dir(self, path: Path) -> Path:
        self.settings.setValue("last_dir", str(path.parent if path.is_file() else path))
        return path

    # == projects ==================================================================================
    def set_project(self, project: Project | None) -> None:
        """Show ``project`` (closing the one shown, whose unsaved state is autosaved)."""
        old = self.project
        self.events.detach()
        self.player.unload()
        if old is not None and old is not project:
            self._close_project(old)
        self.project = project
        self.video_id = None
        self.in_point = self.out_end = None
        self.selection = None
        self.events.attach(project)
        self.video_list.set_project(project)
        if project is not None:
            project.start_autosave(self.autosave_interval_s)
            self._add_recent(project.folder)
            ids = self.video_list.video_ids()
            if ids:
                self.video_list.select_video(ids[0])
        self._refresh_schema()
        self._refresh_labels()
        self._update_title()
        self._update_actions()

    def open_project_path(self, path: str | Path) -> bool:
        """Open a project folder (asking to recover a newer autosave); False if cancelled or failed.

        The project is read before anything is asked about the open one, so a project that cannot be
        opened leaves the current one exactly as it was.
        """
        try:
            project = Project.open(path)
        except (ProjectError, OSError) as exc:
            show_error(self, exc, "Open project")
            return False
        if self.project is not None and project.folder == self.project.folder:
            self.statusBar().showMessage(f"{project.folder} is already open", 4000)
            return True
        if not self.maybe_save():
            return False
        try:
            if project.recovery is not None:
                answer = self.ask(
                    "Recover unsaved changes?",
                    f"{project.recovery.describe()}.\n\nRecover those changes? (No discards them.)",
                    Answer.Yes | Answer.No | Answer.Cancel, Answer.Yes)
                if answer == Answer.Cancel:
                    self._discard_on_close = False
                    return False
                if answer == Answer.Yes:
                    project = Project.open(path, recover=True)
                else:
                    project.discard_autosave()
        except (ProjectError, OSError) as exc:
            self._discard_on_close = False
            show_error(self, exc, "Open project")
            return False
        self.set_project(project)
        self.statusBar().showMessage(f"Opened {project.folder}", 5000)
        return True

    def new_project_path(self, folder: str | Path, name: str | None = None) -> bool:
        if not self.maybe_save():
            return False
        try:
            project = Project.create(folder, name=name)
        except (ProjectError, OSError) as exc:
            self._discard_on_close = False  # the open project stays, with its unsaved edits
            show_error(self, exc, "New project")
            return False
        self.set_project(project)
        return True

    def save_project(self) -> bool:
        if self.project is None:
            return False
        try:
            self.project.save()
        except (ProjectError, OSError) as exc:
            show_error(self, exc, "Save project")
            return False
        self.statusBar().showMessage(f"Saved {self.project.path}", 4000)
        return True

    def save_project_as_path(self, folder: str | Path) -> bool:
        """Save the project's content as a new project in ``folder`` and switch to it."""
        if self.project is None:
            return False
        try:
            new = Project.create(folder, name=self.project.name)
            data = self.project.data
            commands = [AddEntities(name, list(data.collection(name).values()))
                        for name in ("videos", "classes", "targets", "subclips", "intervals", "verdicts", "runs")
                        if data.collection(name)]
            if commands:
                new.execute(Macro(commands, "Copy project"))
            new.undo_stack.clear()
            new.save()
        except (ProjectError, OSError) as exc:
            show_error(self, exc, "Save project as")
            return False
        old = self.project
        self.project = None
        old.close()
        self.set_project(new)
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes: True when it is fine to go on (saved or discarded)."""
        if self.project is None or not self.project.dirty:
            return True
        answer = self.ask("Unsaved changes", f"Save the changes to {self.project.name}?",
                          Answer.Save | Answer.Discard | Answer.Cancel, Answer.Save)
        if answer == Answer.Save:
            return self.save_project()
        if answer == Answer.Discard:
            self._discard_on_close = True  # closing it then drops its autosave instead of writing one
            return True
        return False

    def open_demo(self) -> bool:
        try:
            folder = demo.ensure_demo_project()
        except OSError as exc:
            show_error(self, FramewatchError(f"the demo project cannot be prepared: {exc}"), "Demo")
            return False
        return self.open_project_path(folder)

    # menu handlers
    def new_project(self) -> None:
        folder = self.choose_new_folder("New project folder")
        if folder is not None:
            self.new_project_path(folder)

    def open_project(self) -> None:
        folder = self.choose_folder("Open project folder")
        if folder is not None:
            self.open_project_path(folder)

    def save_project_as(self) -> None:
        folder = self.choose_new_folder("Save project as (new folder)")
        if folder is not None:
            self.save_project_as_path(folder)

    def close_window(self) -> None:
        self.close()

    # recent projects
    def recent_projects(self) -> list[str]:
        value = self.settings.value("recent_projects", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, folder: Path) -> None:
        path = str(folder)
        if demo.user_demo_dir() in Path(path).parents:
            return
        items = [path, *[p for p in self.recent_projects() if p != path]][:MAX_RECENT]
        self.settings.setValue("recent_projects", items)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        items = self.recent_projects()
        for i, path in enumerate(items):
            action = self.recent_menu.addAction(f"&{i + 1}  {path}" if i < 9 else path)
            action.setEnabled(Path(path).is_dir())
            action.triggered.connect(lambda _c=False, p=path: self.open_project_path(p))
        if not items:
            self.recent_menu.addAction("(none)").setEnabled(False)

    # == videos ====================================================================================
    def add_video_paths(self, paths: list[Path], fps: float | None = None) -> None:
        """Probe the files/folders in a worker, then add those that read as one undoable action."""
        if self.project is None or not paths:
            return

        def done(result: tuple[list[Video], list[str]]) -> None:
            videos, problems = result
            added = self._add_probed(videos, problems)
            if added:
                self.video_list.select_video(added[-1].id)

        self._track(run_job(self, "Adding videos", probe_videos, list(paths), fps, on_finished=done))

    def _add_probed(self, videos: list[Video], problems: list[str]) -> list[Video]:
        project = self.project
        if project is None:
            return []
        accepted: list[Video] = []
        for v in videos:
            try:
                project.check_not_duplicate(v, among=accepted)
                accepted.append(v)
            except ProjectValidationError as exc:
                problems.append(str(exc))
        if accepted:
            names = ", ".join(v.name for v in accepted)
            project.execute(AddEntities("videos", accepted, f"Add video{'s' if len(accepted) > 1 else ''} {names}"))
        if problems:
            show_error(self, FramewatchError("Some videos were not added:\n\n" + "\n".join(problems)), "Add videos")
        return accepted

    def add_videos(self) -> None:
        files = self.choose_files("Add videos", "Videos (*.mp4 *.avi *.mov *.mkv *.m4v *.mpg *.mpeg *.webm *.wmv);;"
                                  "All files (*)")
        self.add_video_paths(files)

    def add_frame_folder(self) -> None:
        folder = self.choose_folder("Add a folder of frames")
        if folder is not None:
            self.add_video_paths([folder])

    def import_ucsd_path(self, root: str | Path) -> None:
        from core.project.importers import import_ucsd

        if self.project is not None:
            self._track(run_job(self, "Importing UCSD dataset", import_ucsd, self.project, Path(root),
                                      on_finished=self._imported))

    def import_class_folders_path(self, root: str | Path) -> None:
        from core.project.importers import import_class_folders

        if self.project is not None:
            self._track(run_job(self, "Importing class folders", import_class_folders, self.project, Path(root),
                                      skip_unreadable=True, on_finished=self._imported))

    def _imported(self, result) -> None:
        text = (f"Imported {len(result.videos)} videos, {len(result.subclips)} subclips, "
                f"{len(result.intervals)} anomaly intervals")
        self.statusBar().showMessage(text, 8000)
        if result.skipped:
            show_error(self, FramewatchError(text + ". Skipped:\n\n" + "\n".join(result.skipped)), "Import")

    def import_ucsd(self) -> None:
        folder = self.choose_folder("UCSD dataset folder (holding training/ and testing/)")
        if folder is not None:
            self.import_ucsd_path(folder)

    def import_class_folders(self) -> None:
        folder = self.choose_folder("Dataset folder (<split>/<class>/<video>)")
        if folder is not None:
            self.import_class_folders_path(folder)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        self.drop_paths(paths)

    def drop_paths(self, paths: list[Path]) -> None:
        """A project folder (or project.json) opens; videos and frame folders are added."""
        projects = [p for p in paths if (p / "project.json").is_file() or p.name == "project.json"]
        if projects:
            self.open_project_path(projects[0])
            return
        if self.project is None:
            show_error(self, FramewatchError("Open or create a project before adding videos."), "Add videos")
            return
        self.add_video_paths(paths)

    def select_video(self, video_id: str) -> None:
        if self.project is None or video_id not in self.project.videos or video_id == self.video_id:
            return
        video = self.project.videos[video_id]
        self.video_id = video_id
        self.in_point = self.out_end = None
        self.selection = None
        self.player.load(video.path, fps=video.fps if video.kind == "image_sequence" else None,
                         frame_count=video.frame_count)
        if self.video_list.current_video_id() != video_id:
            self.video_list.select_video(video_id)
        self._refresh_labels()
        self._update_actions()

    @property
    def video(self) -> Video | None:
        if self.project is None or self.video_id is None:
            return None
        return self.project.videos.get(self.video_id)

    def _on_load_failed(self, exc: BaseException) -> None:
        show_error(self, exc, "Video")

    def previous_video(self) -> None:
        self._move_video(-1)

    def next_video(self) -> None:
        self._move_video(1)

    def _move_video(self, delta: int) -> None:
        ids = self.video_list.video_ids()
        if not ids:
            return
        i = ids.index(self.video_id) if self.video_id in ids else -delta
        self.select_video(ids[max(0, min(len(ids) - 1, i + delta))])

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
        self.status_position.setText(f"{name}   frame {frame} / {max(0, self.player.frame_count - 1)}   "
                                     f"{self.player.speed:g}x")

    # == labelling =================================================================================
    def set_in(self) -> None:
        if not self.player.has_video:
            return
        self.player.pause()
        self.in_point = self.player.position
        if self.out_end is not None and self.out_end <= self.in_point:
            self.out_end = None
        self._refresh_span()

    def set_out(self) -> None:
        if not self.player.has_video:
            return
        self.player.pause()
        self.out_end = self.player.position + 1
        if self.in_point is not None and self.in_point >= self.out_end:
            self.in_point = None
        self._refresh_span()

    def clear_in_out(self) -> None:
        self.in_point = self.out_end = None
        self._refresh_span()

    def span(self) -> tuple[int, int] | None:
        """``[start, end)`` from the In and Out points (a missing one: the frame shown)."""
        if self.in_point is None and self.out_end is None:
            return None
        start = self.in_point if self.in_point is not None else self.player.position
        end = self.out_end if self.out_end is not None else self.player.position + 1
        return (start, end) if end > start else None

    def _need_span(self) -> tuple[int, int] | None:
        span = self.span()
        if span is None or self.video_id is None:
            self.statusBar().showMessage("Set the In point (I) and the Out point (O) first", 5000)
        return span if self.video_id is not None else None

    def _edit(self, fn, *args, **kwargs):
        """Run a project edit; a refused edit becomes a dialog and returns None."""
        try:
            return fn(*args, **kwargs)
        except FramewatchError as exc:
            show_error(self, exc, "Edit")
        except (KeyError, ValueError) as exc:
            show_error(self, ProjectValidationError(str(exc)), "Edit")
        return None

    def _finish_typing(self) -> bool:
        """If a text field or spin box has the focus, Enter means "done typing": commit it, give the
        keys back to the player and return True (the shortcut does nothing else)."""
        focus = QApplication.focusWidget()
        if isinstance(focus, QLineEdit | QAbstractSpinBox | QComboBox):
            focus.clearFocus()  # spin boxes and table editors commit on focus out
            self.player.view.setFocus()
            return True
        return False

    def create_subclip(self, label: str | None = None, value: float | None = None, target: str | None = None) -> None:
        if label is None and value is None and self._finish_typing():
            return
        if self.project is None:
            return
        span = self._need_span()
        if span is None:
            return
        label = label if label is not None or value is not None else self.label_panel.current_class
        clip = self._edit(self.project.add_subclip, self.video_id, *span, label=label, value=value, target=target)
        if clip is not None:
            self.clear_in_out()
            self._select(("subclip", clip.id))

    def mark_anomaly(self) -> None:
        if self.project is None:
            return
        span = self._need_span()
        if span is None:
            return
        interval = self._edit(self.project.add_interval, self.video_id, *span)
        if interval is not None:
            self.clear_in_out()
            self._select(("anomaly", interval.id))

    def choose_class(self, name: str) -> None:
        """A class key: label In..Out with it, or relabel the selected subclip, or make it current."""
        self.label_panel.set_current_class(name)
        if self.project is None:
            return
        if self.span() is not None:
            self.create_subclip(label=name)
        elif self.selection is not None and self.selection[0] == "subclip":
            self._edit(self.project.update_subclip, self.selection[1], label=name)
        else:
            self.statusBar().showMessage(f"Current class: {name}", 3000)

    def enter_value(self) -> None:
        if self.project is None or self.video_id is None:
            return
        targets = [(t.name, t.minimum, t.maximum, t.unit) for t in self.project.targets.values()]
        if not targets:
            show_error(self, ProjectValidationError("add a numeric target in the label schema (Ctrl+L) first"), "Value")
            return
        current = None
        if self.selection and self.selection[0] == "subclip":
            current = self.project.subclips[self.selection[1]].value
        dialog = ValueDialog(targets, self, current)
        if dialog.exec() and dialog.value() is not None:
            self.apply_value(*dialog.value())

    def apply_value(self, target: str, value: float) -> None:
        """Give the selected subclip (or a new one from In..Out) the value ``value`` of ``target``."""
        if self.project is None:
            return
        if self.span() is None and self.selection and self.selection[0] == "subclip":
            self._edit(self.project.update_subclip, self.selection[1], value=value, target=target)
        else:
            self.create_subclip(label=None, value=value, target=target)

    def delete_selected(self) -> None:
        if self.project is None or self.selection is None:
            return
        kind, key = self.selection
        self.selection = None
        if kind == "subclip":
            self._edit(self.project.remove_subclips, [key])
        else:
            self._edit(self.project.remove_intervals, [key])

    def move_entity(self, kind: str, key: str, start: int, end: int) -> None:
        """Give a subclip or anomaly interval a new ``[start, end)`` (one undoable edit)."""
        if self.project is None:
            return
        if kind == "subclip":
            self._edit(self.project.update_subclip, key, start=start, end=end)
        elif kind == "anomaly":
            old = self.project.intervals.get(key)
            if old is None:
                return

            def move() -> None:
                checked = self.project.make_interval(old.video_id, start, end, old.source, old.note)
                self.project.execute(ReplaceEntities("intervals", [replace(checked, id=old.id)], "Move anomaly interval"))

            self._edit(move)

    def _nudge(self, delta: int) -> None:
        if self.project is None or self.selection is None:
            return
        kind, key = self.selection
        entity = (self.project.subclips if kind == "subclip" else self.project.intervals).get(key)
        if entity is not None:
            self.move_entity(kind, key, entity.start + delta, entity.end + delta)

    def nudge_back(self) -> None:
        self._nudge(-1)

    def nudge_forward(self) -> None:
        self._nudge(1)

    def _bands_in_order(self) -> list[tuple[str, str, int]]:
        if self.project is None or self.video_id is None:
            return []
        items = [("subclip", s.id, s.start) for s in self.project.subclips_of(self.video_id)]
        items += [("anomaly", i.id, i.start) for i in self.project.intervals_of(self.video_id)]
        return sorted(items, key=lambda t: (t[2], t[0]))

    def select_next_band(self) -> None:
        pos = self.player.position
        later = [b for b in self._bands_in_order() if b[2] > pos]
        if later:
            self._jump_to(later[0][0], later[0][1])

    def select_previous_band(self) -> None:
        pos = self.player.position
        earlier = [b for b in self._bands_in_order() if b[2] < pos]
        if earlier:
            self._jump_to(earlier[-1][0], earlier[-1][1])

    def _jump_to(self, kind: str, key: str) -> None:
        if self.project is None:
            return
        entity = (self.project.subclips if kind == "subclip" else self.project.intervals).get(key)
        if entity is not None:
            self._select((kind, key))
            self.player.step(entity.start - self.player.position)

    def _select(self, selection: tuple[str, str] | None) -> None:
        self.selection = selection
        kind, key = selection if selection else ("", "")
        self.player.timeline.select(kind, key)
        self.label_panel.subclips.select_id(key if kind == "subclip" else None)
        self.label_panel.intervals.select_id(key if kind == "anomaly" else None)
        if kind:
            self.label_panel.tabs.setCurrentIndex(0 if kind == "subclip" else 1)
        self._update_actions()

    def _on_band_selected(self, kind: str, key: str) -> None:
        if kind == "event":
            return
        self._select((kind, key) if key else None)

    def _on_band_edited(self, kind: str, key: str, start: int, end: int) -> None:
        self.move_entity(kind, key, start, end)

    def _on_subclip_cell(self, key: str, column: str, text: str) -> None:
        if self.project is None or key not in self.project.subclips:
            return
        clip = self.project.subclips[key]
        text = text.strip()
        try:
            if column == "First":
                changes = {"start": int(text)}
            elif column == "Last":
                changes = {"end": int(text) + 1}
            elif column == "Label":
                changes = {"label": text or None}
            elif column == "Value":
                changes = {"value": float(text.replace(",", ".")) if text else None}
                if not text:
                    changes["target"] = None
                elif clip.target is None and len(self.project.targets) == 1:
                    changes["target"] = next(iter(self.project.targets))
            elif column == "Split":
                changes = {"split": text or None}
            elif column == "Note":
                changes = {"note": text}
            else:
                return
        except ValueError:
            show_error(self, ProjectValidationError(f"{column.lower()} must be a number, not {text!r}"), "Edit")
            self._refresh_labels()
            return
        if self._edit(self.project.update_subclip, key, **changes) is None:
            self._refresh_labels()

    def _on_interval_cell(self, key: str, column: str, text: str) -> None:
        if self.project is None or key not in self.project.intervals:
            return
        iv = self.project.intervals[key]
        try:
            if column == "First":
                self.move_entity("anomaly", key, int(text), iv.end)
            elif column == "Last":
                self.move_entity("anomaly", key, iv.start, int(text) + 1)
        except ValueError:
            show_error(self, ProjectValidationError(f"{column.lower()} must be a frame number, not {text!r}"), "Edit")
        self._refresh_labels()

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
        """Write subclips to ``folder`` in a worker (progress dialog with Cancel); returns the worker."""
        if self.project is None:
            return None
        clips = list(self.project.subclips.values())
        if only_current_video:
            clips = [c for c in clips if c.video_id == self.video_id]
        if not clips:
            self.statusBar().showMessage("No subclips to export", 4000)
            return None
        items = plan_export(clips, dict(self.project.videos), Path(folder))
        worker = run_job(self, f"Exporting {len(items)} subclips", export_subclips, items,
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
                          f"<b>Framewatch {__version__}</b><p>Cut and label footage, train spatiotemporal models, "
                          "review anomalies.</p><p>Demo footage: UCSD Anomaly Detection Dataset, Ped2 "
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
        self.setWindowTitle(f"{self.project.name} [*] — {self.project.folder.name} — Framewatch")
        self.setWindowModified(self.project.dirty)

    def _update_actions(self) -> None:
        a = self.actions_by_key
        has_project = self.project is not None
        has_video = has_project and self.video_id is not None
        stack = self.project.undo_stack if has_project else None
        a["undo"].setEnabled(bool(stack and stack.can_undo))
        a["redo"].setEnabled(bool(stack and stack.can_redo))
        a["undo"].setText(f"&Undo {stack.undo_text}" if stack and stack.can_undo else "&Undo")
        a["redo"].setText(f"&Redo {stack.redo_text}" if stack and stack.can_redo else "&Redo")
        for key in ("save_project", "save_project_as", "add_videos", "add_frame_folder", "import_ucsd",
                    "import_class_folders", "export_subclips", "edit_schema"):
            a[key].setEnabled(has_project)
        for key in ("set_in", "set_out", "create_subclip", "mark_anomaly", "enter_value", "clear_in_out"):
            a[key].setEnabled(has_video)
        a["delete_selected"].setEnabled(self.selection is not None)

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

    def _close_project(self, project: Project) -> None:
        """Stop autosaving; keep unsaved edits recoverable unless the analyst chose to discard them."""
        try:
            if self._discard_on_close:
                project.stop_autosave()
                project.discard_autosave()
            else:
                project.close()
        except (OSError, ProjectError) as exc:
            show_error(self, exc, "Close project")
        finally:
            self._discard_on_close = False

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        QTimer.singleShot(0, self.player.view.update)
