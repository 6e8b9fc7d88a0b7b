"""The :class:`Project` facade: a project folder, its entities, undo/redo, saving and autosave.

A project is a folder::

    my-project/
        project.json            the project (see docs/project-format.md)
        project.json.bak        the previous save
        project.autosave.json   unsaved edits, written every few seconds while there are any
        models/  runs/  cache/

Every edit goes through :meth:`Project.execute` with a command (the ``add_*`` / ``update_*`` /
``remove_*`` methods build and execute one), so each edit can be undone, marks the project dirty and
notifies subscribers (:meth:`Project.subscribe`) with a :class:`ProjectEvent` so a GUI can refresh.
Frames are 0-based with ``end`` exclusive everywhere (see :mod:`core.project.entities`).

The methods are thread-safe (one re-entrant lock); subscribers are called on the thread that made the
change, so a Qt front end should forward events to the GUI thread with a queued signal.

Between processes, a project opened for writing holds the folder's ``project.lock`` until it is closed
(see :mod:`core.project.lock`): a second writer waits or gets :class:`ProjectLockedError` naming the
holder, and the GUI opens such a project read-only. A save also checks that ``project.json`` is still the
file this project loaded or last saved, so a writer that ignores the lock is never silently overwritten.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from core.jobs import ProgressCallback
from core.project import lock as project_lock
from core.project import store
from core.project.commands import (
    AddEntities,
    Change,
    Command,
    Macro,
    RemoveEntities,
    RenameEntity,
    ReplaceEntities,
    SetInfo,
    UndoStack,
)
from core.project.entities import (
    AnomalyInterval,
    LabelClass,
    ModelRun,
    NormalSpan,
    NumericTarget,
    ProjectData,
    ProjectInfo,
    Subclip,
    Verdict,
    Video,
    new_id,
    now_iso,
)
from core.project.errors import (
    ProjectError,
    ProjectExistsError,
    ProjectLockedError,
    ProjectReadOnlyError,
    ProjectValidationError,
)
from core.project.fingerprint import fingerprint
from core.project.schema import MAX_FPS, MIN_FPS
from core.project.validation import (
    Issue,
    check_label,
    check_span,
    check_split,
    check_verdict,
    find_moved_videos,
    validate,
)
from core.project.videos import probe_video
from core.runs.folders import mark_interrupted_runs

#: Colours given to new classes in turn (Okabe-Ito, readable by colour-blind analysts).
PALETTE = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#000000")
#: Seconds between autosaves while the project is dirty.
DEFAULT_AUTOSAVE_INTERVAL_S = 20.0


@dataclass(frozen=True)
class ProjectEvent:
    """Sent to subscribers after every change.

    ``kind`` is ``"do"``, ``"undo"``, ``"redo"``, ``"saved"`` or ``"autosaved"``; ``text`` the command's
    text; ``collections`` and ``ids`` what changed (empty for saves); ``dirty`` the state afterwards.
    """

    kind: str
    text: str
    collections: frozenset[str]
    ids: frozenset[str]
    dirty: bool


def _edit(method: Callable[..., Any]) -> Callable[..., Any]:
    """An edit method: its checks and its command run under the project's lock as one step."""

    @functools.wraps(method)
    def edit(self: Project, *args: Any, **kwargs: Any) -> Any:
        with self._edit_scope():
            return method(self, *args, **kwargs)

    return edit


class Project:
    """An open project. Create with :meth:`create`, open with :meth:`open`; never construct directly."""

    def __init__(self, folder: Path, data: ProjectData, recovery: store.RecoveryInfo | None = None, *,
                 disk_digest: str | None = None, folder_lock: project_lock.ProjectLock | None = None,
                 read_only: bool = False, held_by: project_lock.LockOwner | None = None) -> None:
        self.folder = Path(folder)
        self._data = data
        #: Digest of project.json as this project last read or wrote it (``None``: no file yet).
        self._disk_digest = disk_digest
        #: This process's hold on the folder (``None`` when read-only).
        self.folder_lock = folder_lock
        self._release_lock = weakref.finalize(self, folder_lock.release) if folder_lock is not None else None
        #: True when edits and saves are refused (opened with ``read_only=True`` or locked elsewhere).
        self.read_only = read_only
        #: The other process that holds the project open for writing, when this one is read-only for that.
        self.held_by = held_by
        self._lock = threading.RLock()
        #: Taken before ``_lock`` by save and autosave, so a slow autosave write can never land after a save.
        self._write_lock = threading.Lock()
        self._edit_depth = 0  # > 0 while an edit method holds the lock for its checks and its command
        self._pending: list[ProjectEvent] = []  # events of those commands, told once the lock is released
        self.undo_stack = UndoStack()
        self._listeners: list[Callable[[ProjectEvent], None]] = []
        self._generation = 0  # bumped on every change; autosave writes only when it moved
        self._autosaved_generation = 0
        self._autosaver: _Autosaver | None = None
        #: An autosave newer than project.json found when the project was opened (see :meth:`open`).
        self.recovery = recovery

    # -- files ------------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The project file, ``<folder>/project.json``."""
        return self.folder / store.PROJECT_FILE

    @property
    def autosave_path(self) -> Path:
        return self.folder / store.AUTOSAVE_FILE

    @property
    def models_dir(self) -> Path:
        return self.folder / "models"

    @property
    def runs_dir(self) -> Path:
        return self.folder / "runs"

    @property
    def cache_dir(self) -> Path:
        return self.folder / "cache"

    @classmethod
    def create(cls, folder: str | Path, name: str | None = None, description: str = "") -> Project:
        """Make a new project in ``folder`` (created if needed) and save it at once.

        Raises :class:`ProjectExistsError` if the folder already holds a project: it is never overwritten.
        """
        folder = Path(os.path.abspath(Path(folder).expanduser()))
        if (folder / store.PROJECT_FILE).exists() or (folder / store.AUTOSAVE_FILE).exists():
            raise ProjectExistsError("a project already exists here; open it instead", folder / store.PROJECT_FILE)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for sub in store.SUBFOLDERS:
                (folder / sub).mkdir(exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"cannot create the project folder ({exc.strerror or exc})", folder) from exc
        folder_lock = project_lock.acquire(folder)
        try:
            if (folder / store.PROJECT_FILE).exists() or (folder / store.AUTOSAVE_FILE).exists():  # made meanwhile
                raise ProjectExistsError("a project already exists here; open it instead", folder / store.PROJECT_FILE)
            data = ProjectData(ProjectInfo(name=name or folder.name, description=description, created=now_iso()))
            project = cls(folder, data, folder_lock=folder_lock)
        except BaseException:
            folder_lock.release()
            raise
        project.save()
        return project

    @classmethod
    def open(cls, folder_or_file: str | Path, recover: bool = False, *, read_only: bool = False,
             wait_s: float = 0.0, program: str | None = None, read_only_if_locked: bool = False) -> Project:
        """Open the project in a folder (or at a ``project.json`` path).

        For writing (the default) the folder's lock is taken first and held until :meth:`close` (see
        :mod:`core.project.lock`): if another live process holds it, this waits up to ``wait_s`` seconds,
        then raises :class:`ProjectLockedError` naming the holder, or, with ``read_only_if_locked``, opens
        the project read-only with ``held_by`` set. ``program`` names this process in the lock file
        (default: the command, e.g. ``framewatch train``). A stale lock (its process is gone) is taken over;
        ``folder_lock.took_over`` then names the dead holder. ``read_only=True`` takes no lock: edits and
        saves raise :class:`ProjectReadOnlyError`, and the files are never touched.

        If an autosave newer than the project file exists, ``project.recovery`` describes it; with
        ``recover=True`` the autosave's content is loaded instead, as unsaved (dirty) edits. The app should
        ask: recover (reopen with ``recover=True``) or :meth:`discard_autosave`. If it does neither, the
        first save or autosave moves the old autosave aside (``project.autosave-unrecovered-<time>.json``)
        rather than overwrite it. A corrupt, truncated or newer-version file raises a :class:`ProjectError`
        and is left untouched.
        """
        path = store.project_file(Path(folder_or_file).expanduser())
        if path.name != store.PROJECT_FILE:
            raise ProjectError(f"open the project folder (or its {store.PROJECT_FILE}), not another file", path)
        folder = Path(os.path.abspath(path.parent))
        held_by = None
        folder_lock = None
        if read_only:
            held_by = project_lock.live_owner(folder)
        elif (folder / store.PROJECT_FILE).exists():  # no lock file is made where there is no project
            try:
                folder_lock = project_lock.acquire(folder, program, wait_s)
            except (ProjectLockedError, ProjectReadOnlyError) as exc:
                if not read_only_if_locked:
                    raise
                read_only, held_by = True, getattr(exc, "owner", None)
        try:
            # the autosave of a live holder is its unsaved work, not a crashed session's: not offered
            recovery = store.recovery_info(folder) if held_by is None else None
            data, digest = store.load_project_file(folder / store.PROJECT_FILE, folder)
            if recover and recovery is not None:
                data = store.read_project_file(recovery.autosave_path, folder)
            mark_interrupted_runs(data.runs)  # 'running' runs whose process is gone
            project = cls(folder, data, recovery=None if recover else recovery, disk_digest=digest,
                          folder_lock=folder_lock, read_only=read_only, held_by=held_by)
        except BaseException:
            if folder_lock is not None:
                folder_lock.release()
            raise
        if recover and recovery is not None:
            project.undo_stack.clean_index = None  # recovered edits are not saved yet
            project._generation = project._autosaved_generation = 1
        return project

    def _check_writable(self) -> None:
        if self.read_only:
            where = f"it is open in {self.held_by.describe()}" if self.held_by is not None else "it was opened read-only"
            raise ProjectReadOnlyError(f"read-only: {where}; use Save As to work on a copy", self.path)

    def save_as(self, folder: str | Path) -> Project:
        """Save this project's content as a new project in ``folder`` and return it (saved, clean).

        Every entity keeps its id. Videos and model-run checkpoints are referenced where they are (runs'
        folders are not copied); the frame cache is not copied (it is rebuilt on demand). This project is
        left as it was, unsaved edits included. Raises :class:`ProjectExistsError` if ``folder`` holds a
        project.
        """
        with self._lock:
            data = self._data.copy()
        new = Project.create(folder, name=self.name, description=self.info.description)
        commands: list[Command] = [AddEntities(name, list(data.collection(name).values()))
                                   for name in ("videos", "classes", "targets", "subclips", "intervals", "normal_spans",
                                                "verdicts", "runs")
                                   if data.collection(name)]
        if commands:
            new.execute(Macro(commands, "Copy project"))
        new.undo_stack.clear()
        new.save()
        return new

    def save(self) -> None:
        """Write project.json atomically (the previous one becomes project.json.bak); drop the autosave.

        Refused with :class:`~core.project.errors.ProjectChangedError` (nothing written, edits kept) if
        project.json is no longer the file this project loaded or last saved: someone else saved meanwhile.
        """
        self._check_writable()
        with self._write_lock, self._lock:
            snapshot = self._data.copy()
            generation = self._generation
            try:
                self._disk_digest = store.save_project_file(self.path, snapshot, self.folder, self._disk_digest)
            except OSError as exc:
                raise ProjectError(f"cannot be saved ({exc.strerror or exc}); your edits are still open", self.path) from exc
            self.undo_stack.set_clean()
            self._autosaved_generation = generation
            self._set_aside_unrecovered()
            with contextlib.suppress(OSError):
                self.autosave_path.unlink(missing_ok=True)
        self._notify(ProjectEvent("saved", "Save", frozenset(), frozenset(), False))

    def _set_aside_unrecovered(self) -> None:
        """Keep a crashed session's autosave that was neither recovered nor discarded, under another name.

        Called before this session saves or autosaves over it, so no one's unsaved work is ever deleted
        without a decision: it becomes ``project.autosave-unrecovered-<time>.json`` (same format).
        """
        if self.recovery is None:
            return
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        with contextlib.suppress(OSError):
            os.replace(self.recovery.autosave_path, self.folder / f"project.autosave-unrecovered-{stamp}.json")
        self.recovery = None

    def autosave(self) -> bool:
        """Write unsaved edits to the autosave side file; returns whether it wrote.

        Writes only when the project is dirty and changed since the last autosave. The edit lock is held
        only to copy the entity dicts, not while encoding or writing; a :meth:`save` that starts meanwhile
        waits for the write, then removes the autosave (an autosave written after a save would offer older
        edits than the saved ones as recovery).
        """
        if self.read_only:
            return False
        with self._write_lock:  # a save waits for this write (or it waits for the save): never stale after one
            with self._lock:
                if not self.dirty or self._generation == self._autosaved_generation:
                    return False
                snapshot = self._data.copy()
                generation = self._generation
                self._set_aside_unrecovered()
            try:
                store.write_project_file(self.autosave_path, snapshot, self.folder, backup=False)
            except OSError as exc:
                raise ProjectError(f"cannot be written ({exc.strerror or exc})", self.autosave_path) from exc
            with self._lock:
                self._autosaved_generation = max(self._autosaved_generation, generation)
        self._notify(ProjectEvent("autosaved", "Autosave", frozenset(), frozenset(), self.dirty))
        return True

    def discard_autosave(self) -> None:
        """Delete the autosave side file (e.g. the analyst declined recovery)."""
        self._check_writable()
        with contextlib.suppress(OSError):
            self.autosave_path.unlink(missing_ok=True)
        self.recovery = None

    def start_autosave(self, interval_s: float = DEFAULT_AUTOSAVE_INTERVAL_S) -> None:
        """Autosave every ``interval_s`` seconds from a background thread while dirty."""
        self.stop_autosave()
        self._autosaver = _Autosaver(self, interval_s)
        self._autosaver.start()

    def stop_autosave(self) -> None:
        if self._autosaver is not None:
            self._autosaver.stop()
            self._autosaver = None

    def close(self, discard: bool = False) -> None:
        """Stop autosaving; a clean project's autosave file is removed, a dirty one's is written
        (with ``discard``, the analyst chose to drop the unsaved edits: the autosave is removed).

        A crashed session's autosave that no one has recovered or discarded yet (``recovery``) is left
        as it is, to be offered again next time. The folder's lock is released (a read-only project
        touches no file).
        """
        self.stop_autosave()
        try:
            if self.read_only:
                return
            if discard:
                self.discard_autosave()
            elif self.dirty:
                self.autosave()
            elif self.recovery is None:
                self.discard_autosave()
        finally:
            if self._release_lock is not None:
                self._release_lock()  # once only: a finalizer runs at most once

    # -- state ------------------------------------------------------------------------------------
    @property
    def data(self) -> ProjectData:
        """The live entities. Read them freely; change them only through :meth:`execute`."""
        return self._data

    @property
    def info(self) -> ProjectInfo:
        return self._data.info

    @property
    def name(self) -> str:
        return self._data.info.name

    @property
    def videos(self) -> Mapping[str, Video]:
        return MappingProxyType(self._data.videos)

    @property
    def classes(self) -> Mapping[str, LabelClass]:
        return MappingProxyType(self._data.classes)

    @property
    def targets(self) -> Mapping[str, NumericTarget]:
        return MappingProxyType(self._data.targets)

    @property
    def subclips(self) -> Mapping[str, Subclip]:
        return MappingProxyType(self._data.subclips)

    @property
    def intervals(self) -> Mapping[str, AnomalyInterval]:
        return MappingProxyType(self._data.intervals)

    @property
    def normal_spans(self) -> Mapping[str, NormalSpan]:
        return MappingProxyType(self._data.normal_spans)

    @property
    def verdicts(self) -> Mapping[str, Verdict]:
        return MappingProxyType(self._data.verdicts)

    @property
    def runs(self) -> Mapping[str, ModelRun]:
        return MappingProxyType(self._data.runs)

    @property
    def dirty(self) -> bool:
        """True when there are edits since the last save."""
        return not self.undo_stack.is_clean

    def subclips_of(self, video_id: str) -> list[Subclip]:
        return [s for s in self._data.subclips.values() if s.video_id == video_id]

    def intervals_of(self, video_id: str) -> list[AnomalyInterval]:
        """Ground-truth anomaly intervals of a video, sorted by start frame."""
        return sorted((i for i in self._data.intervals.values() if i.video_id == video_id), key=lambda i: i.start)

    def normal_spans_of(self, video_id: str) -> list[NormalSpan]:
        """The normal-footage spans of a video, sorted by start frame."""
        return sorted((n for n in self._data.normal_spans.values() if n.video_id == video_id), key=lambda n: n.start)

    def verdicts_of(self, video_id: str) -> list[Verdict]:
        return sorted((v for v in self._data.verdicts.values() if v.video_id == video_id), key=lambda v: v.start)

    def video(self, key: str) -> Video:
        """A video by id, by name, or by path (absolute, or relative to the working folder).

        Raises :class:`ProjectValidationError` when none matches, or when a name is shared by several
        videos and is not also the path of one of them.
        """
        videos = self._data.videos
        if key in videos:
            return videos[key]
        named = [v for v in videos.values() if v.name == key]
        if len(named) == 1:
            return named[0]
        absolute = os.path.abspath(os.path.expanduser(key))
        at_path = [v for v in videos.values() if os.path.abspath(v.path) == absolute]
        if len(at_path) == 1:
            return at_path[0]
        if named:
            raise ProjectValidationError(f"{len(named)} videos are called {key!r}; use the video's id or path")
        raise ProjectValidationError(f"no video {key!r} in the project")

    def validate(self, check_files: bool = True) -> list[Issue]:
        """Every consistency problem of the project (see :func:`core.project.validation.validate`)."""
        with self._lock:
            snapshot = self._data.copy()
        return validate(snapshot, check_files=check_files)

    # -- observers and commands -------------------------------------------------------------------
    def subscribe(self, callback: Callable[[ProjectEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` after every change and save; returns a function that unsubscribes."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return unsubscribe

    def _notify(self, event: ProjectEvent) -> None:
        """Call every subscriber; one that raises does not stop the others (the first error is re-raised)."""
        error: BaseException | None = None
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception as exc:  # re-raised below, after the other subscribers ran
                error = error or exc
        if error is not None:
            raise error

    def _event(self, kind: str, text: str, change: Change) -> ProjectEvent:
        """Called with the lock held, right after a change."""
        self._generation += 1
        return ProjectEvent(kind, text, change.collections, change.ids, self.dirty)

    def execute(self, command: Command) -> Change:
        """Do ``command`` and put it on the undo stack; subscribers hear of it.

        If the command raises, the project is unchanged and nothing is put on the stack. A read-only
        project raises :class:`ProjectReadOnlyError`.
        """
        self._check_writable()
        with self._lock:
            change = command.do(self._data)
            self.undo_stack.push(command)
            event = self._event("do", command.text, change)
            if self._edit_depth:
                self._pending.append(event)
                return change
        self._notify(event)
        return change

    @contextlib.contextmanager
    def _edit_scope(self) -> Iterator[None]:
        """Hold the lock while an edit checks the project and executes its command, so no other thread's
        edit can slip in between (two verdicts for one event, a duplicate video, a subclip of a video just
        removed). Subscribers hear of the change after the lock is released."""
        pending: list[ProjectEvent] = []
        try:
            with self._lock:
                self._edit_depth += 1
                try:
                    yield
                finally:
                    self._edit_depth -= 1
                    if not self._edit_depth:
                        pending, self._pending = self._pending, []
        finally:
            for event in pending:
                self._notify(event)

    def undo(self) -> bool:
        """Take back the last command; returns False if there was none."""
        self._check_writable()
        with self._lock:
            stack = self.undo_stack
            if not stack.can_undo:
                return False
            command = stack.commands[stack.index - 1]
            change = command.undo(self._data)
            stack.index -= 1
            event = self._event("undo", command.text, change)
        self._notify(event)
        return True

    def redo(self) -> bool:
        """Do again the last undone command; returns False if there was none."""
        self._check_writable()
        with self._lock:
            stack = self.undo_stack
            if not stack.can_redo:
                return False
            command = stack.commands[stack.index]
            change = command.do(self._data)
            stack.index += 1
            event = self._event("redo", command.text, change)
        self._notify(event)
        return True

    # -- videos -----------------------------------------------------------------------------------
    def add_video(
        self,
        path: str | Path,
        *,
        fps: float | None = None,
        name: str | None = None,
        split: str | None = None,
        scan: bool = True,
        allow_duplicate: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Video:
        """Add a video file or image folder (scanned once for its decoded frame count unless ``scan=False``).

        Raises :class:`~core.errors.VideoError` if it cannot be read, :class:`ProjectValidationError` if it
        is already in the project (same path or same content) unless ``allow_duplicate``.
        """
        video = probe_video(path, fps=fps, name=name, split=split, scan=scan, progress=progress, cancel=cancel)
        with self._edit_scope():
            if not allow_duplicate:
                self.check_not_duplicate(video)
            self.execute(AddEntities("videos", [video], f"Add video {video.name}"))
        return video

    def find_duplicate(self, video: Video) -> Video | None:
        """The project's video with ``video``'s path or content, if there is one."""
        for other in list(self._data.videos.values()):
            if other.path == video.path or other.fingerprint.same_content(video.fingerprint):
                return other
        return None

    def check_not_duplicate(self, video: Video, among: Iterable[Video] = ()) -> None:
        """Raise :class:`ProjectValidationError` if ``video`` is already in the project (or in ``among``)."""
        for other in [*self._data.videos.values(), *among]:
            if other.path == video.path:
                raise ProjectValidationError(f"{video.path} is already in the project as video {other.name!r}")
            if other.fingerprint.same_content(video.fingerprint):
                raise ProjectValidationError(
                    f"{video.path} has the same content as video {other.name!r} ({other.path}), already in the project"
                )

    @_edit
    def remove_videos(self, ids: Iterable[str]) -> None:
        """Remove videos with their subclips, intervals, normal spans and verdicts (one undoable action)."""
        ids = list(dict.fromkeys(ids))
        for ident in ids:
            self.video(ident)
        wanted = set(ids)
        data = self._data
        parts = [
            RemoveEntities(name, [e.id for e in data.collection(name).values() if e.video_id in wanted])
            for name in ("subclips", "intervals", "normal_spans", "verdicts")
        ]
        names = ", ".join(data.videos[i].name for i in ids)
        self.execute(Macro([*parts, RemoveEntities("videos", ids)], f"Remove video{'s' if len(ids) > 1 else ''} {names}"))

    def relink_video(self, video_id: str, new_path: str | Path, force: bool = False) -> Video:
        """Point a (moved) video at ``new_path``.

        The new file must have the same content (fingerprint) unless ``force``; with ``force`` the video is
        re-probed (size, fps, frame count) and its labels are kept as they are, which is refused when some
        would then run past the new video's end (shorten or remove them first).
        """
        video = self.video(video_id)
        new_path = Path(os.path.abspath(Path(new_path).expanduser()))
        try:
            fp = fingerprint(new_path)
        except OSError as exc:
            raise ProjectValidationError(f"cannot relink {video.name}: {new_path} cannot be read ({exc.strerror or exc})") from exc
        if fp.same_content(video.fingerprint):
            new = replace(video, path=new_path, fingerprint=fp)
        elif force:
            probed = probe_video(new_path, fps=video.fps if video.kind == "image_sequence" else None)
            new = replace(probed, id=video.id, name=video.name, split=video.split, added=video.added,
                          extra=video.extra)
            limit = max(new.frame_count or 0, new.declared_frame_count)
            past = [e for name in ("subclips", "intervals", "normal_spans", "verdicts")
                    for e in self._data.collection(name).values() if e.video_id == video.id and e.end > limit]
            if limit and past:  # the file could not be opened again: ranges past every count it records
                raise ProjectValidationError(
                    f"cannot relink {video.name} to {new_path}: it has {limit} frames and {len(past)} labelled "
                    f"range(s) reach past them (up to frame {max(e.end for e in past)}); shorten or remove them first")
        else:
            raise ProjectValidationError(
                f"cannot relink {video.name}: {new_path} has different content from the video that was added "
                f"({fp.size:,} vs {video.fingerprint.size:,} bytes); relink with force to accept it"
            )
        self.execute(ReplaceEntities("videos", [new], f"Relink video {video.name}"))
        return new

    def relink_moved(self, search_folder: str | Path) -> dict[str, Path]:
        """Find missing videos under ``search_folder`` by content and relink them (one undoable action)."""
        found = find_moved_videos(self._data, search_folder)
        if found:
            videos = [replace(self._data.videos[i], path=Path(os.path.abspath(p)), fingerprint=fingerprint(p))
                      for i, p in found.items()]
            self.execute(ReplaceEntities("videos", videos, f"Relink {len(videos)} moved video(s)"))
        return found

    @_edit
    def update_video(self, video_id: str, **changes: Any) -> Video:
        """Change a video's ``name``, ``split`` (``None``: automatic) or ``fps`` (one undoable edit).

        The name must be non-empty and not another video's. ``fps`` (frames per second, > 0) can be set
        only for an image folder: a video file's frame rate is read from the file.
        """
        old = self.video(video_id)
        unknown = set(changes) - {"name", "split", "fps"}
        if unknown:
            raise ProjectValidationError(f"videos have no editable field {sorted(unknown)[0]!r}")
        if "name" in changes:
            name = changes["name"].strip() if isinstance(changes["name"], str) else ""
            if not name:
                raise ProjectValidationError(f"video {old.name}: the name cannot be empty")
            if any(v.name == name and v.id != old.id for v in self._data.videos.values()):
                raise ProjectValidationError(f"video {old.name}: another video is already called {name!r}")
            changes["name"] = name
        if "split" in changes:
            check_split(changes["split"])
        if "fps" in changes and changes["fps"] != old.fps:
            fps = changes["fps"]
            if old.kind != "image_sequence":
                raise ProjectValidationError(
                    f"video {old.name}: the frame rate of a video file is read from the file; only an image "
                    "folder's can be set")
            if not isinstance(fps, int | float) or not math.isfinite(fps) or not MIN_FPS <= fps <= MAX_FPS:
                raise ProjectValidationError(f"video {old.name}: frames per second must be from {MIN_FPS:g} to "
                                             f"{MAX_FPS:g}, not {fps!r}")
            changes["fps"] = float(fps)
        new = replace(old, **changes)
        if new == old:
            return old
        what = ", ".join(k for k in ("name", "split", "fps") if getattr(new, k) != getattr(old, k))
        self.execute(ReplaceEntities("videos", [new], f"Edit {what} of video {old.name}"))
        return new

    @_edit
    def set_video_split(self, video_ids: Iterable[str], split: str | None) -> None:
        check_split(split)
        videos = [replace(self.video(i), split=split) for i in video_ids]
        self.execute(ReplaceEntities("videos", videos, f"Set split of {len(videos)} video(s) to {split or 'auto'}"))

    # -- label schema -----------------------------------------------------------------------------
    @_edit
    def add_class(self, name: str, color: str | None = None, shortcut: str = "", description: str = "") -> LabelClass:
        """Add a class to the label schema; ``color`` ``#rrggbb`` (default: the next palette colour)."""
        name = name.strip() if isinstance(name, str) else name
        if not isinstance(name, str) or not name:
            raise ProjectValidationError("a class needs a non-empty name")
        if name in self._data.classes:
            raise ProjectValidationError(f"class {name!r} is already in the label schema")
        color = color or PALETTE[len(self._data.classes) % len(PALETTE)]
        _check_color(color)
        self._check_shortcut(shortcut)
        cls = LabelClass(name, color=color.lower(), shortcut=shortcut, description=description)
        self.execute(AddEntities("classes", [cls], f"Add class {name}"))
        return cls

    def _check_shortcut(self, shortcut: str, ignore: str | None = None) -> None:
        if len(shortcut) > 1:
            raise ProjectValidationError(f"a shortcut is one key, not {shortcut!r}")
        if shortcut:
            for c in self._data.classes.values():
                if c.shortcut == shortcut and c.name != ignore:
                    raise ProjectValidationError(f"shortcut {shortcut!r} is already used by class {c.name!r}")

    @_edit
    def update_class(self, name: str, *, color: str | None = None, shortcut: str | None = None,
                     description: str | None = None) -> LabelClass:
        old = self._data.classes.get(name)
        if old is None:
            raise ProjectValidationError(f"no class {name!r} in the label schema")
        if color is not None:
            _check_color(color)
        if shortcut is not None:
            self._check_shortcut(shortcut, ignore=name)
        new = replace(old, color=(color or old.color).lower(), shortcut=old.shortcut if shortcut is None else shortcut,
                      description=old.description if description is None else description)
        self.execute(ReplaceEntities("classes", [new], f"Edit class {name}"))
        return new

    @_edit
    def rename_class(self, old: str, new: str) -> None:
        """Rename a class and relabel its subclips (one undoable action)."""
        cls = self._data.classes.get(old)
        if cls is None:
            raise ProjectValidationError(f"no class {old!r} in the label schema")
        if not new or new in self._data.classes:
            raise ProjectValidationError(f"cannot rename {old!r} to {new!r}: empty or already a class")
        relabelled = [replace(s, label=new) for s in self._data.subclips.values() if s.label == old]
        self.execute(Macro([
            RenameEntity("classes", old, replace(cls, name=new)),  # keeps the class's place in the schema
            ReplaceEntities("subclips", relabelled),
        ], f"Rename class {old} to {new}"))

    @_edit
    def remove_class(self, name: str, unlabel: bool = False) -> None:
        """Remove a class. If subclips use it, raise unless ``unlabel`` (their label is then cleared)."""
        if name not in self._data.classes:
            raise ProjectValidationError(f"no class {name!r} in the label schema")
        used = [s for s in self._data.subclips.values() if s.label == name]
        if used and not unlabel:
            raise ProjectValidationError(f"class {name!r} labels {len(used)} subclip(s); relabel them first or unlabel them")
        self.execute(Macro([RemoveEntities("classes", [name]),
                            ReplaceEntities("subclips", [replace(s, label=None) for s in used])], f"Remove class {name}"))

    @_edit
    def add_target(self, name: str, minimum: float = 0.0, maximum: float = 1.0, unit: str = "") -> NumericTarget:
        """Add a numeric target with its inclusive range ``[minimum, maximum]``."""
        if not isinstance(name, str) or not name.strip():
            raise ProjectValidationError("a numeric target needs a non-empty name")
        if name in self._data.targets:
            raise ProjectValidationError(f"numeric target {name!r} already exists")
        if not float(minimum) < float(maximum):
            raise ProjectValidationError(f"target {name!r}: minimum {minimum} must be below maximum {maximum}")
        target = NumericTarget(name, float(minimum), float(maximum), unit)
        self.execute(AddEntities("targets", [target], f"Add target {name}"))
        return target

    @_edit
    def update_target(self, name: str, *, minimum: float | None = None, maximum: float | None = None,
                      unit: str | None = None) -> NumericTarget:
        """Change a numeric target's range or unit; refused if a subclip's value would fall outside."""
        old = self._data.targets.get(name)
        if old is None:
            raise ProjectValidationError(f"no numeric target {name!r}")
        new = replace(old, minimum=old.minimum if minimum is None else float(minimum),
                      maximum=old.maximum if maximum is None else float(maximum),
                      unit=old.unit if unit is None else unit)
        if not new.minimum < new.maximum:
            raise ProjectValidationError(f"target {name!r}: minimum {new.minimum:g} must be below maximum {new.maximum:g}")
        for clip in self._data.subclips.values():
            if clip.target == name and clip.value is not None and not new.minimum <= clip.value <= new.maximum:
                raise ProjectValidationError(
                    f"target {name!r}: a subclip has value {clip.value:g}, outside [{new.minimum:g}, {new.maximum:g}]")
        self.execute(ReplaceEntities("targets", [new], f"Edit target {name}"))
        return new

    @_edit
    def remove_target(self, name: str) -> None:
        """Remove a numeric target no subclip uses."""
        self._require("targets", [name])
        if any(s.target == name for s in self._data.subclips.values()):
            raise ProjectValidationError(f"target {name!r} has values on subclips; clear them first")
        self.execute(RemoveEntities("targets", [name], f"Remove target {name}"))

    # -- subclips ---------------------------------------------------------------------------------
    def make_subclip(self, video_id: str, start: int, end: int, label: str | None = None, value: float | None = None,
                     target: str | None = None, split: str | None = None, note: str = "") -> Subclip:
        """A checked new :class:`Subclip` (not yet added): frames ``[start, end)`` of a video."""
        video = self.video(video_id)
        check_span(video, start, end)
        if value is not None:
            value = float(value)
        check_label(self._data, label, value, target)
        if value is not None and target is None:
            target = next(iter(self._data.targets))
        check_split(split)
        return Subclip(new_id(), video.id, start, end, label=label, value=value, target=target, split=split, note=note)

    @_edit
    def add_subclip(self, video_id: str, start: int, end: int, label: str | None = None, value: float | None = None,
                    target: str | None = None, split: str | None = None, note: str = "") -> Subclip:
        """Add frames ``[start, end)`` (0-based, end exclusive) of a video as a labelled subclip."""
        clip = self.make_subclip(video_id, start, end, label, value, target, split, note)
        self.execute(AddEntities("subclips", [clip], f"Add subclip {clip.label or clip.value or ''}".rstrip()))
        return clip

    @_edit
    def add_subclips(self, clips: Iterable[Subclip], text: str = "") -> None:
        """Add many subclips (made with :meth:`make_subclip`) as one undoable action."""
        clips = list(clips)
        self.execute(AddEntities("subclips", clips, text or f"Add {len(clips)} subclips"))

    @_edit
    def update_subclip(self, subclip_id: str, **changes: Any) -> Subclip:
        """Change fields of a subclip (``start``, ``end``, ``label``, ``value``, ``target``, ``split``, ``note``)."""
        old = self._data.subclips.get(subclip_id)
        if old is None:
            raise ProjectValidationError(f"no subclip {subclip_id!r}")
        unknown = set(changes) - {"start", "end", "label", "value", "target", "split", "note"}
        if unknown:
            raise ProjectValidationError(f"subclips have no field {sorted(unknown)[0]!r}")
        new = replace(old, **changes)
        checked = self.make_subclip(new.video_id, new.start, new.end, new.label, new.value, new.target, new.split, new.note)
        new = replace(checked, id=old.id, extra=old.extra)
        self.execute(ReplaceEntities("subclips", [new], "Edit subclip"))
        return new

    @_edit
    def remove_subclips(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        self._require("subclips", ids)
        self.execute(RemoveEntities("subclips", ids, f"Remove {len(ids)} subclip{'s' if len(ids) != 1 else ''}"))

    def _require(self, collection: str, ids: Iterable[str]) -> None:
        coll = self._data.collection(collection)
        for ident in ids:
            if ident not in coll:
                raise ProjectValidationError(f"no {collection[:-1].replace('_', ' ')} {ident!r} in the project")

    # -- anomaly intervals, verdicts, runs ------------------------------------------------------
    def make_interval(self, video_id: str, start: int, end: int, source: str = "manual", note: str = "") -> AnomalyInterval:
        video = self.video(video_id)
        check_span(video, start, end, "anomaly interval")
        return AnomalyInterval(new_id(), video.id, start, end, source=source, note=note)

    @_edit
    def add_interval(self, video_id: str, start: int, end: int, source: str = "manual", note: str = "") -> AnomalyInterval:
        """Mark frames ``[start, end)`` (0-based, end exclusive) of a video as abnormal (ground truth)."""
        interval = self.make_interval(video_id, start, end, source, note)
        self.execute(AddEntities("intervals", [interval], "Add anomaly interval"))
        return interval

    @_edit
    def update_interval(self, interval_id: str, **changes: Any) -> AnomalyInterval:
        """Change fields of an anomaly interval (``start``, ``end``, ``note``), checked against the video."""
        old = self._data.intervals.get(interval_id)
        if old is None:
            raise ProjectValidationError(f"no anomaly interval {interval_id!r}")
        unknown = set(changes) - {"start", "end", "note"}
        if unknown:
            raise ProjectValidationError(f"anomaly intervals have no field {sorted(unknown)[0]!r}")
        new = replace(old, **changes)
        check_span(self.video(new.video_id), new.start, new.end, "anomaly interval")
        self.execute(ReplaceEntities("intervals", [new], "Edit anomaly interval"))
        return new

    @_edit
    def remove_intervals(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        self._require("intervals", ids)
        self.execute(RemoveEntities("intervals", ids, f"Remove {len(ids)} anomaly interval(s)"))

    # -- normal spans -----------------------------------------------------------------------------
    def make_normal_span(self, video_id: str, start: int, end: int, note: str = "") -> NormalSpan:
        """A checked new :class:`NormalSpan` (not yet added): frames ``[start, end)`` of a video."""
        video = self.video(video_id)
        check_span(video, start, end, "normal span")
        return NormalSpan(new_id(), video.id, start, end, note=note)

    @_edit
    def add_normal_span(self, video_id: str, start: int, end: int, note: str = "") -> NormalSpan:
        """Mark frames ``[start, end)`` (0-based, end exclusive) of a video as normal footage to train on.

        A video with normal spans trains on exactly those frames; the rest of it is scored. A span that
        overlaps an anomaly interval or a confirmed event is allowed (its abnormal frames are left out of
        training) and reported by :meth:`validate`.
        """
        span = self.make_normal_span(video_id, start, end, note)
        self.execute(AddEntities("normal_spans", [span], "Mark normal footage"))
        return span

    @_edit
    def update_normal_span(self, span_id: str, **changes: Any) -> NormalSpan:
        """Change fields of a normal span (``start``, ``end``, ``note``), checked against the video."""
        old = self._data.normal_spans.get(span_id)
        if old is None:
            raise ProjectValidationError(f"no normal span {span_id!r}")
        unknown = set(changes) - {"start", "end", "note"}
        if unknown:
            raise ProjectValidationError(f"normal spans have no field {sorted(unknown)[0]!r}")
        new = replace(old, **changes)
        check_span(self.video(new.video_id), new.start, new.end, "normal span")
        self.execute(ReplaceEntities("normal_spans", [new], "Edit normal span"))
        return new

    @_edit
    def remove_normal_spans(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        self._require("normal_spans", ids)
        self.execute(RemoveEntities("normal_spans", ids, f"Remove {len(ids)} normal span{'s' if len(ids) != 1 else ''}"))

    @_edit
    def set_verdict(self, video_id: str, start: int, end: int, verdict: str, note: str = "",
                    run_id: str | None = None, score: float | None = None) -> Verdict:
        """Record (or change) the verdict on the event ``[start, end)`` of a video flagged by ``run_id``."""
        new, command = self._verdict_command(video_id, start, end, verdict, note, run_id, score)
        self.execute(command)
        return new

    def _verdict_command(self, video_id: str, start: int, end: int, verdict: str, note: str,
                         run_id: str | None, score: float | None) -> tuple[Verdict, Command]:
        """The verdict :meth:`set_verdict` records and the command that records it (checked, not executed)."""
        video = self.video(video_id)
        check_span(video, start, end, "flagged event")
        check_verdict(verdict)
        key = (run_id, video.id, start, end)
        old = next((v for v in self._data.verdicts.values() if v.event_key == key), None)
        if old is not None:
            new = replace(old, verdict=verdict, note=note, score=old.score if score is None else score, updated=now_iso())
            return new, ReplaceEntities("verdicts", [new], f"Mark event {verdict}")
        new = Verdict(new_id(), video.id, start, end, verdict, note=note, run_id=run_id, score=score, updated=now_iso())
        return new, AddEntities("verdicts", [new], f"Mark event {verdict}")

    @_edit
    def confirm_as_interval(self, video_id: str, start: int, end: int, note: str = "", run_id: str | None = None,
                            score: float | None = None) -> tuple[Verdict, AnomalyInterval]:
        """Confirm the event ``[start, end)`` flagged by ``run_id`` and mark its frames as a ground-truth
        anomaly interval (``source="review"``), as one undoable action."""
        verdict, command = self._verdict_command(video_id, start, end, "confirmed", note, run_id, score)
        interval = self.make_interval(video_id, start, end, source="review", note=note)
        self.execute(Macro([command, AddEntities("intervals", [interval])], "Confirm event as anomaly interval"))
        return verdict, interval

    @_edit
    def remove_verdicts(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        self._require("verdicts", ids)
        self.execute(RemoveEntities("verdicts", ids, f"Remove {len(ids)} verdict(s)"))

    @_edit
    def add_run(self, name: str, task: str, config: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
                checkpoint: str | Path | None = None, status: str = "") -> ModelRun:
        """Record a model run; a relative ``checkpoint`` is taken relative to the project folder."""
        run = ModelRun(new_id(), name, task, dict(config or {}), dict(metrics or {}),
                       self._abs(checkpoint), status, now_iso())
        self.execute(AddEntities("runs", [run], f"Add run {name}"))
        return run

    @_edit
    def update_run(self, run_id: str, **changes: Any) -> ModelRun:
        """Change a run's ``name``, ``config``, ``metrics``, ``checkpoint`` or ``status``."""
        old = self._data.runs.get(run_id)
        if old is None:
            raise ProjectValidationError(f"no run {run_id!r}")
        if "checkpoint" in changes:
            changes["checkpoint"] = self._abs(changes["checkpoint"])
        new = replace(old, **changes)
        self.execute(ReplaceEntities("runs", [new], f"Edit run {old.name}"))
        return new

    @_edit
    def remove_runs(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        self._require("runs", ids)
        self.execute(RemoveEntities("runs", ids, f"Remove {len(ids)} run(s)"))

    @_edit
    def set_info(self, name: str | None = None, description: str | None = None) -> None:
        info = self._data.info
        self.execute(SetInfo(replace(info, name=info.name if name is None else name,
                                     description=info.description if description is None else description)))

    def _abs(self, path: str | Path | None) -> Path | None:
        if path is None or path == "":
            return None
        path = Path(path)
        return path if path.is_absolute() else self.folder / path


def _check_color(color: str) -> None:
    text = color[1:] if isinstance(color, str) and color.startswith("#") else ""
    if len(text) != 6 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise ProjectValidationError(f"colour must be #rrggbb, not {color!r}")


class _Autosaver(threading.Thread):
    """Calls :meth:`Project.autosave` every ``interval_s`` seconds until stopped."""

    def __init__(self, project: Project, interval_s: float) -> None:
        super().__init__(name="framewatch-autosave", daemon=True)
        self.project = project
        self.interval_s = interval_s
        self._stop_event = threading.Event()
        self.last_error: Exception | None = None

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            try:
                self.project.autosave()
            except (OSError, ProjectError) as exc:  # a failed autosave must not kill the thread
                self.last_error = exc

    def stop(self) -> None:
        self._stop_event.set()
        if self is not threading.current_thread():
            self.join(timeout=10)
