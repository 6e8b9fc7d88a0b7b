"""Atomic file writes: the one helper every writer in Framewatch uses.

A crash, a kill or a full disk at any moment leaves either the previous file or the new one, never a
mixture and never a half-written file under the real name:

1. the new content is written to a temporary file beside the target (same folder, so the final
   rename never crosses file systems), named ``.<stem>.<pid>-<token>.part<suffix>``: hidden, with the
   target's extension (muxers and ``model.save`` pick their format from it) and the writer's PID;
2. the temporary file is flushed to disk (``fsync``) and given the target's permissions (a new file
   gets ``0666`` less the umask, not the owner-only mode of a temporary file);
3. ``os.replace`` puts it over the target, and the folder is synced so the rename survives a power cut
   (best effort: not every platform can sync a folder).

Temporary files of a writer that was killed are found again by their name: every atomic write first
removes leftovers of *the same target* whose writer process is gone (:func:`remove_leftovers`), so a
killed cut or export leaves nothing behind after the next run; :func:`remove_leftovers` also sweeps a
whole folder for callers that own one (a project folder when it opens).

A whole folder is replaced the same way by :func:`atomic_folder` (built in a temporary sibling, then
swapped in): what ``framewatch export-run --overwrite`` writes, whose files must never come from two runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from core.errors import NonFiniteJSONError

#: ``.<stem>.<pid>-<token>.part<suffix>``: what a temporary file of an atomic write is called.
_TEMP_NAME = re.compile(r"^\.(?P<stem>.*)\.(?P<pid>\d+)-[0-9a-f]{6}\.part(?P<suffix>(\.[^.]*)?)$")


def temp_path(target: Path) -> Path:
    """A fresh temporary name beside ``target`` (see the module doc for the pattern)."""
    target = Path(target)
    return target.with_name(f".{target.stem}.{os.getpid()}-{secrets.token_hex(3)}.part{target.suffix}")


def pid_alive(pid: int) -> bool:
    """True unless no process ``pid`` exists on this machine (a PID we may not signal counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or we cannot tell): leave its files alone
    return True


def remove_leftovers(folder: Path, target: Path | None = None) -> list[Path]:
    """Delete temporary files of atomic writes in ``folder`` whose writer process is gone.

    With ``target``, only the leftovers of writes to that file. Returns the files removed. Files of a
    live writer (this process included) are never touched.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None:
            continue
        if target is not None and (match["stem"], match["suffix"]) != (target.stem, target.suffix):
            continue
        if pid_alive(int(match["pid"])):
            continue
        path = Path(entry.path)
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def _umask() -> int:
    """The process umask, read without changing it where the system allows (``/proc``)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _target_mode(path: Path) -> int:
    """Permissions for a rewrite of ``path``: the file's own, or what a new file gets (0666 less the umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def fsync_file(path: Path) -> None:
    """Flush ``path``'s data to disk, so that a rename after a power cut never exposes a partial file."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(path: str | Path, backup: Path | None = None) -> Iterator[Path]:
    """Write ``path`` atomically through a temporary file that the ``with`` body creates.

    Yields the temporary path (same folder and extension as ``path``); when the body returns, the file
    is synced, given ``path``'s permissions and renamed over ``path``. If the body raises, the temporary
    file is deleted and ``path`` is untouched. With ``backup``, the previous ``path`` is kept there as a
    hard link (costs no copy). The target's folder must exist.
    """
    path = Path(path)
    remove_leftovers(path.parent, path)
    tmp = temp_path(path)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{tmp.name}: the writer produced no file")
        if tmp.is_file():
            fsync_file(tmp)
            with contextlib.suppress(OSError):
                os.chmod(tmp, _target_mode(path))
        if backup is not None and path.exists():
            with contextlib.suppress(OSError):
                backup.unlink(missing_ok=True)
                os.link(path, backup)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            if tmp.is_dir() and not tmp.is_symlink():
                shutil.rmtree(tmp)
            else:
                tmp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


#: ``.<name>.<pid>-<token>.aside``: a folder :func:`atomic_folder` set aside while its replacement goes in.
_ASIDE_NAME = re.compile(r"^\.(?P<name>.*)\.(?P<pid>\d+)-[0-9a-f]{6}\.aside$")


def _asides(path: Path) -> list[Path]:
    """Folders set aside by :func:`atomic_folder` for ``path`` whose writer process is gone, newest first."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            match = _ASIDE_NAME.match(entry.name)
            if match is not None and match["name"] == path.name and not pid_alive(int(match["pid"])):
                found.append(Path(entry.path))
    return sorted(found, key=lambda aside: aside.lstat().st_mtime_ns, reverse=True)


def _remove_aside(aside: Path) -> None:
    """Delete a set-aside folder (or the symbolic link that stood at the target), best effort."""
    if aside.is_symlink() or not aside.is_dir():
        with contextlib.suppress(OSError):
            aside.unlink()
    else:
        shutil.rmtree(aside, ignore_errors=True)


def restore_folder(path: str | Path) -> bool:
    """Finish what a killed :func:`atomic_folder` of ``path`` left: put the previous folder back if the writer
    died between its two renames (``path`` missing, the old folder aside), delete its other leftovers
    (asides and unfinished temporary folders of dead writers). Returns ``True`` when a folder was put back."""
    path = Path(path)
    asides = _asides(path)
    restored = False
    if asides and not (path.exists() or path.is_symlink()):
        try:
            os.rename(asides[0], path)
        except OSError:
            return False  # nothing is deleted that may be the only copy left
        asides, restored = asides[1:], True
    for aside in asides:
        _remove_aside(aside)
    remove_leftovers(path.parent, path)
    return restored


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Build folder ``path`` anew in a temporary sibling that the ``with`` body fills, then swap it in.

    Yields the temporary folder (created empty beside ``path``, named as :func:`temp_path` names files).
    When the body returns, its files are synced; an existing ``path`` is renamed aside
    (``.<name>.<pid>-<token>.aside``), the new folder renamed to ``path`` and the old one deleted. If the
    body raises, the temporary folder is deleted and ``path`` is untouched. A kill at any moment leaves the
    old complete folder or the new complete one at ``path``, but for the instant between the two renames,
    when ``path`` is missing and the old folder is aside: the next :func:`atomic_folder` of ``path`` (or
    :func:`restore_folder`) puts it back first, and deletes a killed writer's temporary folders. The
    parent folder must exist.
    """
    path = Path(path)
    restore_folder(path)
    tmp = temp_path(path)
    tmp.mkdir()
    aside: Path | None = None
    try:
        yield tmp
        for file in sorted(tmp.rglob("*")):
            if file.is_file() and not file.is_symlink():
                fsync_file(file)
        fsync_folder(tmp)
        if path.exists() or path.is_symlink():
            aside = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(3)}.aside")
            os.rename(path, aside)
        try:
            os.rename(tmp, path)
        except BaseException:
            if aside is not None:
                os.rename(aside, path)
                aside = None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_folder(path.parent)
    if aside is not None:
        _remove_aside(aside)


def write_bytes(path: str | Path, data: bytes, backup: Path | None = None) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path, backup=backup) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_text(path: str | Path, text: str, backup: Path | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"), backup=backup)


def write_json(path: str | Path, data: Any, default: Callable[[Any], Any] | None = None, indent: int = 2,
               ensure_ascii: bool = True) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (``default``, ``indent`` and ``ensure_ascii`` as
    for :func:`json.dumps`).

    Strict JSON only: NaN or an infinity anywhere in ``data`` raises :class:`~core.errors.NonFiniteJSONError`
    naming ``path``, and nothing is written (Python would write ``NaN``/``Infinity``, which other readers refuse).
    """
    try:
        text = json.dumps(data, indent=indent, ensure_ascii=ensure_ascii, allow_nan=False,
                          default=default if default is not None else json_default)
    except ValueError as exc:
        if "JSON compliant" not in str(exc):
            raise
        raise NonFiniteJSONError(path) from exc
    write_text(path, text)


def copy_file(src: str | Path, dst: str | Path) -> None:
    """Copy ``src`` onto ``dst`` atomically."""
    with atomic_output(dst) as tmp:
        shutil.copyfile(src, tmp)


def json_default(value: Any) -> Any:
    """JSON for the values records hold besides plain ones: paths, numpy scalars, tuples and sets."""
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
