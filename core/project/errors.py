"""Errors of projects and datasets: every one is a :class:`~core.errors.FramewatchError`.

Messages name the file (or the entity) and say what is wrong, e.g.
``"proj/project.json: not valid JSON (line 3, column 5: Expecting ',' delimiter)"``.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import FramewatchError


class ProjectError(FramewatchError):
    """Base class of every project error. ``path`` is the file concerned, when there is one."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = message
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)


class ProjectNotFoundError(ProjectError):
    """No project file where one was expected."""


class ProjectExistsError(ProjectError):
    """A new project was asked for where one already exists (it is never overwritten)."""


class ProjectFormatError(ProjectError):
    """The project file is corrupt, truncated, or does not follow the schema."""


class ProjectVersionError(ProjectFormatError):
    """The project file was written by a newer Framewatch (its schema version is unknown here)."""


class ProjectValidationError(ProjectError):
    """An edit or an import would make the project inconsistent (bad interval, unknown label, ...)."""


class DatasetError(ProjectError):
    """A dataset cannot be built from the project as asked (no samples, a video in two splits, ...)."""


class ProjectLockedError(ProjectError):
    """Another process holds the project's lock (``project.lock``): it is open there for writing.

    ``owner`` is the holder (a :class:`~core.project.lock.LockOwner`; ``None`` if its lock file could not
    be read). The message names it and says what to do, e.g. ``walkway/project.json: open in Framewatch
    (GUI) by alice on host1, PID 123, since 10:02; close it there, or open it read-only``.
    """

    def __init__(self, owner, path: str | Path | None = None, hint: str = "") -> None:
        self.owner = owner
        if owner is None:
            message = "locked by another process whose lock file cannot be read"
        else:
            message = f"open in {owner.describe()}"
            if not owner.on_this_host():
                hint = hint or (f"close it there; if nothing runs there any more, delete {Path('project.lock')} "
                                "in the project folder")
        super().__init__(f"{message}; {hint or 'close it there, or open it read-only'}", path)


class ProjectReadOnlyError(ProjectError):
    """An edit or a save of a project opened read-only (it is open for writing elsewhere, or was asked so)."""


class ProjectChangedError(ProjectError):
    """project.json changed on disk since this project loaded or saved it (another program wrote it):
    saving would overwrite that work, so the save is refused and the edits stay open."""
