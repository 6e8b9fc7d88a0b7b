"""A project that exists only if the work that fills it succeeds: an import into a new project folder.

``framewatch project import-ucsd MISSING NEW`` must not leave an empty project at ``NEW`` when the import
fails: the analyst would find a project they never made, and the next import into ``NEW`` would meet it.
:func:`new_project_or_nothing` creates the project, hands it to the work, and if the work raises
(a missing dataset, a damaged video, Ctrl+C) closes it and removes everything creating it made: the
project's files and sub-folders, and the folder itself and its parents when they did not exist before.
Files that were in the folder before are never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from core.project.project import Project


def _new_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, outermost first (what ``mkdir -p`` makes)."""
    missing = []
    for path in [folder, *folder.parents]:
        if path.exists():
            break
        missing.append(path)
    return list(reversed(missing))


@contextlib.contextmanager
def new_project_or_nothing(folder: str | Path, **create: object) -> Iterator[Project]:
    """:meth:`Project.create` in ``folder`` (``create``: its keyword arguments), removed again if the body raises.

    Yields the open project; after a clean exit it is the caller's (saved or not, open). If the body
    raises, the project is closed without saving, the entries it added to ``folder`` are deleted (and
    ``folder`` and its new parents if creating made them), and the exception goes on.
    """
    folder = Path(os.path.abspath(Path(folder).expanduser()))
    made_folders = _new_folders(folder)
    before = set(os.listdir(folder)) if not made_folders and folder.is_dir() else set()
    project = None
    try:
        project = Project.create(folder, **create)  # type: ignore[arg-type]
        yield project
    except BaseException:
        if project is not None:
            project.close(discard=True)
        elif not made_folders and not folder.is_dir():
            raise  # nothing was made: not a folder
        if made_folders:
            shutil.rmtree(made_folders[0], ignore_errors=True)
        else:
            for name in set(os.listdir(folder)) - before:
                path = folder / name
                with contextlib.suppress(OSError):
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink()
        raise
