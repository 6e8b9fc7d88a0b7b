"""Reading and writing project files so that nothing is ever lost.

* Saves go through :mod:`core.atomic_write` (a temporary file beside the target, fsynced, then
  ``os.replace``-d over it): a crash at any moment leaves either the old file or the new one, never a
  mixture, and a killed save's temporary file is removed by the next save. The previous ``project.json``
  is kept as ``project.json.bak`` (a hard link, so keeping it costs no copy).
* The autosave side file ``project.autosave.json`` is written the same way; it is newer than the project
  file only while there are unsaved edits, which is how :func:`recovery_info` knows to offer recovery.
* :func:`read_project_file` raises only :class:`~core.project.errors.ProjectError` subclasses.
* :func:`save_project_file` refuses to write over a ``project.json`` that is no longer the one its
  caller loaded or saved (compared by content digest): another program's work is never overwritten.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.atomic_write import write_bytes, write_text
from core.project import schema
from core.project.entities import ProjectData
from core.project.errors import (
    ProjectChangedError,
    ProjectError,
    ProjectFormatError,
    ProjectNotFoundError,
    ProjectVersionError,
)

PROJECT_FILE = "project.json"
AUTOSAVE_FILE = "project.autosave.json"
BACKUP_FILE = "project.json.bak"
#: Sub-folders every project has.
SUBFOLDERS = ("models", "runs", "cache")


def project_file(folder_or_file: str | Path) -> Path:
    """``project.json`` of a project folder (a path to the file itself is accepted too)."""
    p = Path(folder_or_file)
    return p if p.suffix == ".json" and not p.is_dir() else p / PROJECT_FILE


def digest(content: bytes) -> str:
    """The content digest that tells one saved project.json from another (BLAKE2b, 128 bits)."""
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def read_project_file(path: Path, folder: Path | None = None) -> ProjectData:
    """Load a project (or autosave) file; paths in it are resolved against ``folder`` (its folder)."""
    return load_project_file(path, folder)[0]


def load_project_file(path: Path, folder: Path | None = None) -> tuple[ProjectData, str]:
    """Like :func:`read_project_file`, with the :func:`digest` of the bytes that were read."""
    path = Path(path)
    folder = path.parent if folder is None else folder
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ProjectNotFoundError("no project here (the project file does not exist)", path) from exc
    except IsADirectoryError as exc:
        raise ProjectFormatError("is a folder, not a project file", path) from exc
    except OSError as exc:
        raise ProjectError(f"cannot be read ({exc.strerror or exc})", path) from exc
    try:
        if not raw.strip():
            raise ProjectFormatError("the file is empty (0 bytes of JSON): it was truncated", path)
        return schema.loads(raw, folder, path), digest(raw)
    except ProjectFormatError as exc:
        backup = path.with_name(BACKUP_FILE)
        if path.name == PROJECT_FILE and backup.exists() and not isinstance(exc, ProjectVersionError):
            raise type(exc)(f"{exc.problem}. The previous save is in {BACKUP_FILE}: copy it over "
                            f"{PROJECT_FILE} to go back to it", path) from exc
        raise


def write_project_file(path: Path, data: ProjectData, folder: Path | None = None, backup: bool = True) -> str:
    """Save ``data`` to ``path`` atomically; returns the save time (ISO 8601, UTC)."""
    path = Path(path)
    saved = datetime.now(UTC).isoformat(timespec="milliseconds")
    text = schema.dumps(data, path.parent if folder is None else folder, saved)
    write_text(path, text, backup=path.with_name(BACKUP_FILE) if backup else None)
    return saved


def disk_digest(path: Path) -> str | None:
    """The :func:`digest` of the file at ``path`` now; ``None`` if there is no file."""
    try:
        return digest(Path(path).read_bytes())
    except FileNotFoundError:
        return None


def save_project_file(path: Path, data: ProjectData, folder: Path, expected: str | None) -> str:
    """Save ``data`` to ``path`` (as :func:`write_project_file`) if the file there is still the one whose
    digest is ``expected`` (``None``: there must be no file); returns the digest of what was written.

    Raises :class:`ProjectChangedError` (writing nothing) if someone else wrote the file meanwhile.
    """
    path = Path(path)
    if disk_digest(path) != expected:
        raise ProjectChangedError(
            "was changed on disk by another program since this project was opened or last saved; saving would "
            "overwrite that work, so nothing was saved. Your edits are still open: use Save As to keep them, "
            "then reopen the project to see the other changes", path)
    saved = datetime.now(UTC).isoformat(timespec="milliseconds")
    text = schema.dumps(data, folder, saved).encode("utf-8")
    write_bytes(path, text, backup=path.with_name(BACKUP_FILE))
    return digest(text)


@dataclass(frozen=True)
class RecoveryInfo:
    """An autosave newer than the project file: unsaved work the app can offer to recover.

    Times are seconds since the epoch (file modification times).
    """

    autosave_path: Path
    autosave_time: float
    project_time: float | None

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.autosave_time).strftime("%Y-%m-%d %H:%M:%S")
        return f"{self.autosave_path.name} holds unsaved changes from {when}, newer than the last save"


def recovery_info(folder: Path) -> RecoveryInfo | None:
    """The autosave of ``folder`` if it is newer than ``project.json`` (or there is no project.json)."""
    auto = folder / AUTOSAVE_FILE
    try:
        auto_time = auto.stat().st_mtime_ns
    except OSError:
        return None
    try:
        project_time: int | None = (folder / PROJECT_FILE).stat().st_mtime_ns
    except OSError:
        project_time = None
    if project_time is not None and auto_time <= project_time:
        return None
    return RecoveryInfo(auto, auto_time / 1e9, None if project_time is None else project_time / 1e9)
