"""The main window's project and footage handling: new, open, save, recent projects, recovery,
adding videos and frame folders, imports and drag-and-drop.

A mixin of :class:`desktop_app.main_window.MainWindow`; it uses the window's widgets and ``ask`` /
``choose_*`` methods (which tests replace so that no dialog waits for input).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox

from core.errors import FramewatchError, VideoNotFoundError
from core.project import AddEntities, Project, ProjectError, ProjectValidationError, Video
from core.project.probe import ProbedVideos, probe_videos
from desktop_app.jobs.error_dialog import show_error
from desktop_app.jobs.progress import run_job
from desktop_app.library import demo

MAX_RECENT = 10
Answer = QMessageBox.StandardButton


class ProjectFilesMixin:
    """Projects and footage; see the module docstring."""

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
        self._show_read_only(project)
        self._update_title()
        self._update_actions()

    def _show_read_only(self, project: Project | None) -> None:
        """A permanent status-bar note while the project shown is read-only (open for writing elsewhere)."""
        label = getattr(self, "status_read_only", None)
        if label is None:
            label = self.status_read_only = QLabel("", self)
            label.setObjectName("statusReadOnly")
            label.setStyleSheet("QLabel { color: #d55e00; font-weight: bold; }")
            self.statusBar().addPermanentWidget(label)
        if project is None or not project.read_only:
            label.setText("")
            label.setToolTip("")
            label.hide()
            return
        where = (f"open in {project.held_by.describe()}" if project.held_by is not None
                 else "its folder cannot be written")
        label.setText(f"Read-only: {where}")
        label.setToolTip("Another Framewatch is writing this project, so this window cannot save it: close it "
                         "there and reopen it here, or use Save As to work on a copy.")
        label.show()
        self.statusBar().showMessage(f"{project.path} is {where}; opened read-only (Save As makes a copy)", 10000)

    def open_project_path(self, path: str | Path) -> bool:
        """Open a project folder (asking to recover a newer autosave); False if cancelled or failed.

        The project is read before anything is asked about the open one, so a project that cannot be
        opened leaves the current one exactly as it was.
        """
        if Path(path).is_file() and Path(path).name != "project.json":
            show_error(self, FramewatchError(
                f"{path}: not a project (a project is a folder holding project.json). "
                "To add a video or image to the open project, use File > Add Videos or drop it on the window."),
                "Open project")
            return False
        try:  # a project another process is writing opens read-only, saying so (see _show_read_only)
            project = Project.open(path, read_only_if_locked=True)
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
                    project = Project.open(path, recover=True, read_only_if_locked=True)
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

    def is_scratch(self) -> bool:
        """Whether the open project is a scratch project (a bare video opened from the command line)."""
        return self.project is not None and demo.user_scratch_dir() in self.project.folder.parents

    def open_video_path(self, path: str | Path, fps: float | None = None) -> bool:
        """Open a bare video file or image folder in a new scratch project, shown at once.

        The video is probed first (in a worker, without decoding it whole: the player counts its frames),
        so a file that is not a video only shows an error and leaves the open project as it was. The
        scratch project lives in the app's data folder; Save offers Save As to keep it elsewhere.
        """
        path = Path(path)
        if not path.exists():
            show_error(self, VideoNotFoundError(path, "does not exist"), "Open video")
            return False

        def probed(result: ProbedVideos) -> None:
            if result.problems or not result.videos:
                show_error(self, FramewatchError("; ".join(result.problems) or f"{path}: nothing to open"),
                           "Open video")
                return
            if not self.maybe_save():
                return
            video = result.videos[0]
            try:
                project = Project.create(demo.new_scratch_folder(path.stem or path.name), name=video.name)
            except (ProjectError, OSError) as exc:
                self._discard_on_close = False
                show_error(self, exc, "Open video")
                return
            try:  # the scratch project starts saved and clean: undo cannot take its video away
                project.execute(AddEntities("videos", [video], f"Add video {video.name}"))
                project.undo_stack.clear()
                project.save()
            except (ProjectError, OSError) as exc:
                show_error(self, exc, "Open video")
                return
            self.set_project(project)
            self.statusBar().showMessage(f"Opened {path} in a scratch project; File > Save As keeps it", 8000)

        self._track(run_job(self, "Opening video", probe_videos, [path], fps, scan=False, on_finished=probed))
        return True

    def save_project(self) -> bool:
        if self.project is None:
            return False
        if self.is_scratch():
            folder = self.choose_new_folder("Save scratch project as (new folder)")
            return folder is not None and self.save_project_as_path(folder)
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
            new = self.project.save_as(folder)
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
        if demo.user_demo_dir() in Path(path).parents or demo.user_scratch_dir() in Path(path).parents:
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

        def done(result: ProbedVideos) -> None:
            added = self._add_probed(result.videos, result.problems)
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

    def remove_videos(self, video_ids: list[str]) -> None:
        """Remove videos with their labels (one undoable edit)."""
        if self.project is None or not video_ids:
            return
        self._edit(self.project.remove_videos, video_ids)
        if not any(v in self.project.videos for v in video_ids):
            self.statusBar().showMessage(f"Removed {len(video_ids)} video(s); Ctrl+Z brings them back", 6000)

    def relink_video(self, video_id: str) -> None:
        if self.project is None or video_id not in self.project.videos:
            return
        video = self.project.videos[video_id]
        if video.kind == "image_sequence":
            new = self.choose_folder(f"New place of the frames of {video.name}")
        else:
            files = self.choose_files(f"New place of {video.name}", "Videos (*.mp4 *.avi *.mov *.mkv *.m4v *.mpg "
                                      "*.mpeg *.webm *.wmv);;All files (*)")
            new = files[0] if files else None
        if new is not None:
            self.relink_video_path(video_id, new)

    def relink_video_path(self, video_id: str, path: str | Path) -> bool:
        """Point a video at ``path``; a file with other content is used only if the analyst agrees."""
        if self.project is None:
            return False
        try:
            self.project.relink_video(video_id, path)
        except ProjectValidationError as exc:
            if not Path(path).exists():
                show_error(self, exc, "Relink video")
                return False
            answer = self.ask("Relink to a different file?",
                              f"{exc}.\n\nUse it anyway? Subclips and intervals keep their frame numbers.",
                              Answer.Yes | Answer.No, Answer.No)
            if answer != Answer.Yes or self._edit(self.project.relink_video, video_id, path, force=True) is None:
                return False
        except FramewatchError as exc:
            show_error(self, exc, "Relink video")
            return False
        if video_id == self.video_id:  # show the file it now points at
            self.video_id = None
            self.select_video(video_id)
        self.statusBar().showMessage(f"Relinked {self.project.videos[video_id].name} to {path}", 6000)
        return True

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
        self.player.view.setFocus()
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

    def _close_project(self, project: Project) -> None:
        """Stop autosaving; keep unsaved edits recoverable unless the analyst chose to discard them."""
        try:
            project.close(discard=self._discard_on_close)  # also lets go of the project's lock
        except (OSError, ProjectError) as exc:
            show_error(self, exc, "Close project")
        finally:
            self._discard_on_close = False
