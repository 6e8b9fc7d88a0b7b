"""The files no output may replace: a project's own files and its videos.

Every job that writes files a user names (project exports, score exports, annotated videos, rollout
exports) checks its outputs here before writing the first, ``--overwrite`` or not: writing over the
project file or over one of the project's videos would destroy work that exists nowhere else. The check
compares files, not spellings (``new/../clip.mp4``, symbolic and hard links are caught).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.project.errors import ProjectError


def own_files(project: Any) -> list[tuple[Path, str]]:
    """``(path, what it is)`` of each file of ``project`` (an open :class:`~core.project.Project`) that an
    output must never replace: its project file, autosave and backup, and every video."""
    from core.project.store import BACKUP_FILE

    own = [(project.path, "the project file"), (project.autosave_path, "the project's autosave"),
           (project.folder / BACKUP_FILE, "the project's backup")]
    return own + [(v.path, f"video {v.name} of the project") for v in project.data.videos.values()]


def refuse_own_files(project: Any, outputs: Iterable[str | Path]) -> None:
    """Raise :class:`ProjectError` naming the first of ``outputs`` that is one of :func:`own_files`."""
    from core.video.cutting import same_file

    protected = own_files(project)
    for output in outputs:
        for path, what in protected:
            if same_file(output, path):
                raise ProjectError(f"is {what}: writing over it would destroy it; choose another output", output)


def refuse_own_files_of(folder: str | Path, outputs: Iterable[str | Path]) -> None:
    """:func:`refuse_own_files` for the project in ``folder``, opened read-only for the check (no lock); nothing
    to refuse when ``folder`` holds no project (commands that take runs from any folder of run folders)."""
    from core.project import Project, ProjectNotFoundError

    outputs = list(outputs)
    if not outputs:
        return
    try:
        project = Project.open(folder, read_only=True)
    except ProjectNotFoundError:
        return
    try:
        refuse_own_files(project, outputs)
    finally:
        project.close()
