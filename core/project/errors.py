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
