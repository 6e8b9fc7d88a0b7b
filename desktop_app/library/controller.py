"""The library feature: projects (new, open, save, recent, recovery, the demo, scratch projects) and
their footage (the Videos dock, adding videos and frame folders, relinking, removing, imports,
drag-and-drop), undo/redo of project edits and exporting subclips.

:class:`LibraryController` sets ``state.project`` and ``state.video_id``; questions and file choices
go through ``state.ask`` / ``state.choose_*`` (which tests replace so that no dialog waits for input).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QLabel, QMenu, QMessageBox, QWidget

from core.errors import FramewatchError, VideoNotFoundError
from core.project import AddEntities, Project, ProjectError, ProjectEvent, ProjectValidationError, Video
from core.project.exporters import (
    csv_files,
    existing_subclip_files,
    export_csv,
    export_json,
    export_subclip_videos,
)
from core.project.probe import ProbedVideos, probe_videos
from desktop_app.common.actions import build_actions, native
from desktop_app.common.edits import apply_edit
from desktop_app.jobs import run_job, show_error
from desktop_app.library import demo
from desktop_app.library.video_dialog import VideoDialog
from desktop_app.library.video_list import VideoList
from desktop_app.state import AppState

MAX_RECENT = 10
Answer = QMessageBox.StandardButton


def _elide(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,") + "…"


class LibraryController(QObject):
    """Projects and footage; see the module docstring. Owns :attr:`video_list`, :attr:`recent_menu`
    and :attr:`read_only_label` (for the status bar)."""

    def __init__(self, state: AppState, window: QWidget, settings: QSettings, autosave_interval_s: float) -> None:
        super().__init__(window)
        self.state = state
        self.window = window
        self.settings = settings
        self.autosave_interval_s = autosave_interval_s
        self._discard_on_close = False  # the analyst chose Discard for the open project's edits
        then = self._choose_then

        def then_save(title: str, filters: str, act) -> None:
            chosen = self.state.choose_save_file(title, filters)
            if chosen is not None:
                act(chosen)

        self.actions = build_actions(window, {
            "new_project": lambda: then("choose_new_folder", "New project folder", self.new_project_path),
            "open_project": lambda: then("choose_folder", "Open project folder", self.open_project_path),
            "open_demo": self.open_demo,
            "save_project": self.save_project,
            "save_project_as": lambda: then("choose_new_folder", "Save project as (new folder)",
                                            self.save_project_as_path),
            "add_videos": self.add_videos,
            "add_frame_folder": lambda: then("choose_folder", "Add a folder of frames",
                                             lambda folder: self.add_video_paths([folder])),
            "import_ucsd": lambda: then("choose_folder", "UCSD dataset folder (holding training/ and testing/)",
                                        self.import_ucsd_path),
            "import_class_folders": lambda: then("choose_folder", "Dataset folder (<split>/<class>/<video>)",
                                                 self.import_class_folders_path),
            "export_subclips": lambda: then("choose_folder", "Export subclips to folder", self.export_subclips_to),
            "export_labels_csv": lambda: then("choose_folder", "Export labels as CSV files into folder",
                                              self.export_labels_csv_to),
            "export_labels_json": lambda: then_save("Export labels as JSON", "JSON (*.json)", self.export_labels_json_to),
            "undo": self.undo,
            "redo": self.redo,
            "previous_video": lambda: self._move_video(-1),
            "next_video": lambda: self._move_video(1),
        })
        self.video_list = VideoList(window)
        self.video_list.video_activated.connect(self.select_video)
        self.video_list.remove_requested.connect(self.remove_videos)
        self.video_list.relink_requested.connect(self.relink_video)
        self.video_list.edit_requested.connect(self.edit_video)
        self.video_list.split_requested.connect(self.set_split)
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        self.read_only_label = QLabel("", window)
        self.read_only_label.setObjectName("statusReadOnly")
        self.read_only_label.setStyleSheet("QLabel { color: #d55e00; font-weight: bold; }")
        self.read_only_label.hide()
        state.project_edited.connect(self._on_project_event)
        self._update_actions()

    @property
    def project(self) -> Project | None:
        return self.state.project

    @property
    def video_id(self) -> str | None:
        return self.state.video_id

    def _edit(self, fn, *args, **kwargs):
        return apply_edit(self.window, fn, *args, **kwargs)

    def _choose_then(self, chooser: str, title: str, then) -> None:
        """Ask with ``state.<chooser>(title)`` (looked up now: tests replace it); go on unless cancelled."""
        chosen = getattr(self.state, chooser)(title)
        if chosen is not None:
            then(chosen)

    def _on_project_event(self, event: ProjectEvent) -> None:
        if self.project is None:
            return
        cols = event.collections
        if "videos" in cols:
            if self.video_id is not None and self.video_id not in self.project.videos:
                self.state.set_video(None)
            self.video_list.refresh()
            if self.video_id is None and self.video_list.video_ids():
                self.video_list.select_video(self.video_list.video_ids()[0])
        elif cols & {"subclips", "intervals", "normal_spans"}:
            self.video_list.refresh()
        self._update_actions()
        if event.kind in ("undo", "redo"):
            self.state.show_status(f"{event.kind.capitalize()}: {event.text}", 3000)

    def _update_actions(self) -> None:
        a = self.actions
        has_project = self.project is not None
        stack = self.project.undo_stack if has_project else None
        for key, verb, can, text in (("undo", "Undo", stack and stack.can_undo, stack and stack.undo_text),
                                     ("redo", "Redo", stack and stack.can_redo, stack and stack.redo_text)):
            a[key].setEnabled(bool(can))
            # The menu names the edit (shortened: an import names every video); the toolbar button
            # keeps its one word so the buttons after it do not slide out of sight.
            what = _elide(text) if can else ""
            a[key].setText(f"&{verb} {what.replace('&', '&&')}".rstrip())
            a[key].setIconText(verb)
            a[key].setToolTip(f"{verb} {what}".rstrip() + f" ({native(a[key].shortcut().toString())})")
        writable = has_project and not self.project.read_only
        for key in ("save_project_as", "export_subclips", "export_labels_csv", "export_labels_json"):
            a[key].setEnabled(has_project)
        for key in ("save_project", "add_videos", "add_frame_folder", "import_ucsd", "import_class_folders"):
            a[key].setEnabled(writable)  # a read-only project (open for writing elsewhere) cannot change

    # == undo and export ===========================================================================
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
            self.state.show_status("No subclips to export", 4000)
            return None
        ids = [c.id for c in clips]
        existing = existing_subclip_files(self.project, Path(folder), ids)
        if existing:  # never replace files without asking; "No" leaves them (and the export) alone
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            answer = self.state.ask("Replace existing files?",
                              f"{existing[0].name}{more} already exist in {folder}.\n\nReplace them with the "
                              f"exported subclips?", Answer.Yes | Answer.No, Answer.No)
            if answer != Answer.Yes:
                self.state.show_status("Export not started: existing files left as they were", 6000)
                return None
        worker = run_job(self.window, f"Exporting {len(ids)} subclips", export_subclip_videos, self.project, Path(folder), ids,
                         overwrite=bool(existing),
                         on_finished=lambda files: self.state.show_status(
                             f"Exported {len(files)} subclips to {folder}", 8000),
                         on_cancelled=lambda: self.state.show_status("Export cancelled", 5000))
        return self.state.track(worker)

    def export_labels_csv_to(self, folder: str | Path):
        """Write the label tables as CSV files into ``folder`` in a worker; returns it (``None``: not started)."""
        return self._export_labels(csv_files(folder), export_csv, Path(folder), "CSV files")

    def export_labels_json_to(self, path: str | Path):
        """Write the labels to one JSON file in a worker; returns it (``None``: not started)."""
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".json")
        return self._export_labels([path], export_json, path, "JSON")

    def _export_labels(self, targets: list[Path], export, where: Path, what: str):
        """Run ``export(project, where, overwrite=...)``, asking first before replacing existing files."""
        if self.project is None:
            return None
        existing = [p for p in targets if p.exists()]
        if existing:  # never replace files without asking
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            answer = self.state.ask("Replace existing files?", f"{existing[0]}{more} already exist.\n\nReplace them?",
                                    Answer.Yes | Answer.No, Answer.No)
            if answer != Answer.Yes:
                self.state.show_status("Export not started: existing files left as they were", 6000)
                return None
        worker = run_job(self.window, f"Exporting labels as {what}", export, self.project, where,
                         overwrite=bool(existing),
                         on_finished=lambda _out: self.state.show_status(f"Exported labels to {where}", 8000),
                         on_cancelled=lambda: self.state.show_status("Export cancelled", 5000))
        return self.state.track(worker)

    # == projects ==================================================================================
    def set_project(self, project: Project | None, old_closed: bool = False) -> None:
        """Show ``project`` (closing the one shown, whose unsaved state is autosaved)."""
        old = self.project
        self.state.set_project(project)
        if old is not None and old is not project and not old_closed:
            self._close_project(old)
        self.video_list.set_project(project)
        if project is not None:
            project.start_autosave(self.autosave_interval_s)
            self._add_recent(project.folder)
            ids = self.video_list.video_ids()
            if ids:
                self.video_list.select_video(ids[0])
        self._show_read_only(project)
        self._update_actions()

    def _show_read_only(self, project: Project | None) -> None:
        """A permanent status-bar note while the project shown is read-only (open for writing elsewhere)."""
        label = self.read_only_label
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
        self.state.show_status(f"{project.path} is {where}; opened read-only (Save As makes a copy)", 10000)

    def open_project_path(self, path: str | Path) -> bool:
        """Open a project folder (asking to recover a newer autosave); False if cancelled or failed.

        The project is read before anything is asked about the open one, so a project that cannot be
        opened leaves the current one exactly as it was.
        """
        if Path(path).is_file() and Path(path).name != "project.json":
            show_error(self.window, FramewatchError(
                f"{path}: not a project (a project is a folder holding project.json). "
                "To add a video or image to the open project, use File > Add Videos or drop it on the window."),
                "Open project")
            return False
        try:  # a project another process is writing opens read-only, saying so (see _show_read_only)
            project = Project.open(path, read_only_if_locked=True)
        except (ProjectError, OSError) as exc:
            show_error(self.window, exc, "Open project")
            return False
        if self.project is not None and project.folder == self.project.folder:
            self.state.show_status(f"{project.folder} is already open", 4000)
            return True
        if not self.maybe_save():
            return False
        try:
            if project.recovery is not None:
                answer = self.state.ask(
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
            show_error(self.window, exc, "Open project")
            return False
        self.set_project(project)
        self.state.show_status(f"Opened {project.folder}", 5000)
        return True

    def new_project_path(self, folder: str | Path, name: str | None = None) -> bool:
        if not self.maybe_save():
            return False
        try:
            project = Project.create(folder, name=name)
        except (ProjectError, OSError) as exc:
            self._discard_on_close = False  # the open project stays, with its unsaved edits
            show_error(self.window, exc, "New project")
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
            show_error(self.window, VideoNotFoundError(path, "does not exist"), "Open video")
            return False

        def probed(result: ProbedVideos) -> None:
            if result.problems or not result.videos:
                show_error(self.window, FramewatchError("; ".join(result.problems) or f"{path}: nothing to open"),
                           "Open video")
                return
            if not self.maybe_save():
                return
            video = result.videos[0]
            try:
                project = Project.create(demo.new_scratch_folder(path.stem or path.name), name=video.name)
            except (ProjectError, OSError) as exc:
                self._discard_on_close = False
                show_error(self.window, exc, "Open video")
                return
            try:  # the scratch project starts saved and clean: undo cannot take its video away
                project.execute(AddEntities("videos", [video], f"Add video {video.name}"))
                project.undo_stack.clear()
                project.save()
            except (ProjectError, OSError) as exc:
                show_error(self.window, exc, "Open video")
                return
            self.set_project(project)
            self.state.show_status(f"Opened {path} in a scratch project; File > Save As keeps it", 8000)

        self.state.track(run_job(self.window, "Opening video", probe_videos, [path], fps, scan=False, on_finished=probed))
        return True

    def save_project(self) -> bool:
        if self.project is None:
            return False
        if self.is_scratch():
            folder = self.state.choose_new_folder("Save scratch project as (new folder)")
            return folder is not None and self.save_project_as_path(folder)
        try:
            self.project.save()
        except (ProjectError, OSError) as exc:
            show_error(self.window, exc, "Save project")
            return False
        self.state.show_status(f"Saved {self.project.path}", 4000)
        return True

    def save_project_as_path(self, folder: str | Path) -> bool:
        """Save the project's content as a new project in ``folder`` and switch to it."""
        if self.project is None:
            return False
        try:
            new = self.project.save_as(folder)
        except (ProjectError, OSError) as exc:
            show_error(self.window, exc, "Save project as")
            return False
        self.project.close()
        self.set_project(new, old_closed=True)
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes: True when it is fine to go on (saved or discarded)."""
        if self.project is None or not self.project.dirty:
            return True
        answer = self.state.ask("Unsaved changes", f"Save the changes to {self.project.name}?",
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
            show_error(self.window, FramewatchError(f"the demo project cannot be prepared: {exc}"), "Demo")
            return False
        return self.open_project_path(folder)

    # menu handlers
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

    def fill_recent_menu(self) -> None:
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

        self.state.track(run_job(self.window, "Adding videos", probe_videos, list(paths), fps, on_finished=done))

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
            show_error(self.window, FramewatchError("Some videos were not added:\n\n" + "\n".join(problems)), "Add videos")
        return accepted

    def remove_videos(self, video_ids: list[str]) -> None:
        """Remove videos with their labels (one undoable edit)."""
        if self.project is None or not video_ids:
            return
        self._edit(self.project.remove_videos, video_ids)
        if not any(v in self.project.videos for v in video_ids):
            self.state.show_status(f"Removed {len(video_ids)} video(s); Ctrl+Z brings them back", 6000)

    def relink_video(self, video_id: str) -> None:
        if self.project is None or video_id not in self.project.videos:
            return
        video = self.project.videos[video_id]
        if video.kind == "image_sequence":
            new = self.state.choose_folder(f"New place of the frames of {video.name}")
        else:
            files = self.state.choose_files(f"New place of {video.name}", "Videos (*.mp4 *.avi *.mov *.mkv *.m4v *.mpg "
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
                show_error(self.window, exc, "Relink video")
                return False
            answer = self.state.ask("Relink to a different file?",
                              f"{exc}.\n\nUse it anyway? Subclips and intervals keep their frame numbers.",
                              Answer.Yes | Answer.No, Answer.No)
            if answer != Answer.Yes or self._edit(self.project.relink_video, video_id, path, force=True) is None:
                return False
        except FramewatchError as exc:
            show_error(self.window, exc, "Relink video")
            return False
        if video_id == self.video_id:  # show the file it now points at
            self.state.set_video(None)
            self.select_video(video_id)
        self.state.show_status(f"Relinked {self.project.videos[video_id].name} to {path}", 6000)
        return True

    def edit_video(self, video_id: str) -> None:
        """Ask for a video's name, split and frame rate (a dialog), then :meth:`update_video`."""
        if self.project is None or video_id not in self.project.videos:
            return
        dialog = VideoDialog(self.project.videos[video_id], self.window)
        if dialog.exec() and dialog.changes():
            self.update_video(video_id, dialog.changes())

    def update_video(self, video_id: str, changes: dict) -> bool:
        """Change fields of a video as one undoable edit; a refused change becomes a dialog."""
        if self.project is None:
            return False
        old = self.project.videos.get(video_id)
        video = self._edit(self.project.update_video, video_id, **changes)
        if video is None:
            return False
        if video_id == self.video_id and old is not None and video.fps != old.fps:  # times follow the new rate
            self.state.set_video(None)
            self.select_video(video_id)
        self.state.show_status(f"Edited video {video.name}; Ctrl+Z undoes it", 5000)
        return True

    def set_split(self, video_ids: list[str], split: str | None) -> None:
        if self.project is not None and video_ids:
            self._edit(self.project.set_video_split, video_ids, split)

    def add_videos(self) -> None:
        files = self.state.choose_files("Add videos", "Videos (*.mp4 *.avi *.mov *.mkv *.m4v *.mpg *.mpeg *.webm *.wmv);;"
                                  "All files (*)")
        self.add_video_paths(files)

    def import_ucsd_path(self, root: str | Path) -> None:
        from core.project.importers import import_ucsd

        if self.project is not None:
            self.state.track(run_job(self.window, "Importing UCSD dataset", import_ucsd, self.project, Path(root),
                                      on_finished=self._imported))

    def import_class_folders_path(self, root: str | Path) -> None:
        from core.project.importers import import_class_folders

        if self.project is not None:
            self.state.track(run_job(self.window, "Importing class folders", import_class_folders, self.project, Path(root),
                                      skip_unreadable=True, on_finished=self._imported))

    def _imported(self, result) -> None:
        text = (f"Imported {len(result.videos)} videos, {len(result.subclips)} subclips, "
                f"{len(result.intervals)} anomaly intervals")
        self.state.show_status(text, 8000)
        if result.skipped:
            show_error(self.window, FramewatchError(text + ". Skipped:\n\n" + "\n".join(result.skipped)), "Import")

    def drop_paths(self, paths: list[Path]) -> None:
        """A project folder (or project.json) opens; videos and frame folders are added."""
        projects = [p for p in paths if (p / "project.json").is_file() or p.name == "project.json"]
        if projects:
            self.open_project_path(projects[0])
            return
        if self.project is None:
            show_error(self.window, FramewatchError("Open or create a project before adding videos."), "Add videos")
            return
        self.add_video_paths(paths)

    def select_video(self, video_id: str) -> None:
        if self.project is None or video_id not in self.project.videos or video_id == self.video_id:
            return
        self.state.set_video(video_id)
        if self.video_list.current_video_id() != video_id:
            self.video_list.select_video(video_id)

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
            show_error(self.window, exc, "Close project")
        finally:
            self._discard_on_close = False

    def close_project(self) -> None:
        """Close the open project for good (the window is closing): autosave kept unless discarded."""
        if self.project is not None:
            self._close_project(self.project)
