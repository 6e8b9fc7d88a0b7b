"""The project a ``framewatch project`` command works on: its folder argument and how it is opened.

Shared by the ``project`` sub-commands (:mod:`core.cli.project_commands`, :mod:`core.cli.project_scan`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.number_options import WAIT_S

#: Seconds an editing command waits for another writer of the project to finish, by default.
DEFAULT_WAIT_S = 5.0


def add_project_argument(parser: argparse.ArgumentParser, create: bool = False, recovery: bool = True,
                         writes: bool = True) -> None:
    parser.add_argument("dir", type=Path, help="project folder" + (" (created if it holds no project; removed "
                        "again if the import fails)" if create else ""))
    if writes:
        parser.add_argument("--wait", type=WAIT_S, default=DEFAULT_WAIT_S, metavar="SECONDS",
                            help="if another Framewatch is writing the project, wait this long for it to finish "
                            f"(default {DEFAULT_WAIT_S:g})")
    if recovery:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--recover", action="store_true", help="continue from the autosave of a crashed session")
        group.add_argument("--discard-autosave", action="store_true", help="drop the autosave of a crashed session")


def open_project(args: argparse.Namespace, read_only: bool = False):
    """The project of ``args.dir``: locked for writing (waiting ``--wait``), or read-only (no lock).

    A read-only open that must drop the autosave (``--discard-autosave``) writes, so it locks too.
    """
    from core.project import Project, ProjectError, ProjectLockedError

    read_only = read_only and not getattr(args, "discard_autosave", False)
    try:
        project = Project.open(args.dir, recover=getattr(args, "recover", False), read_only=read_only,
                               wait_s=getattr(args, "wait", 0.0), program=f"framewatch project {args.project_command}")
    except ProjectLockedError as exc:
        hint = f"waited {args.wait:g} s; " if getattr(args, "wait", 0) else ""
        raise ProjectLockedError(exc.owner, exc.path, hint=f"{hint}close it there or use --wait SECONDS") from exc
    note_lock(project)
    if project.recovery is not None:
        if getattr(args, "discard_autosave", False):
            project.discard_autosave()
        else:
            raise ProjectError(f"{project.recovery.describe()}; give --recover to continue from it or "
                               "--discard-autosave to drop it", project.path)
    return project


def note_lock(project) -> None:
    """Say on stderr that a stale lock was taken over, or that a read-only project is open elsewhere."""
    lock = project.folder_lock
    if lock is not None and lock.took_over is not None and lock.users == 1:
        print(f"framewatch: note: took over the lock of {lock.took_over.describe()}: that process is gone",
              file=sys.stderr)
    if project.held_by is not None:
        print(f"framewatch: note: {project.path} is open in {project.held_by.describe()}; this reads its last "
              "save (edits not saved there are not included)", file=sys.stderr)
