"""``project.lock``: one writer per project folder at a time, so no process ever saves over another's work.

The lock is a small JSON file in the project folder, created with ``O_CREAT | O_EXCL`` (so exactly one
process can make it) and removed when its holder closes the project. It says who holds it::

    {"format": "framewatch-lock", "program": "Framewatch (GUI)", "user": "alice", "host": "host1",
     "pid": 123, "started": 8812345, "boot": "4f0c...", "since": "2026-11-23T10:02:11+01:00", "token": "..."}

``started`` is the holder's process start time (clock ticks since boot, from ``/proc/<pid>/stat``) and
``boot`` the boot id, where the system has them: together with the PID they tell a live holder from a
dead one whose PID was reused.

A lock is **stale** when it was made on this host and its process is gone (no such PID, or a PID with
another start time or boot): the next opener takes it over and says so (:attr:`ProjectLock.took_over`).
A lock made on **another host** is never guessed about: its holder is named, and only a person who knows
that no Framewatch runs there any more should delete the file.

Within one process the lock is shared: every :class:`~core.project.project.Project` of the folder holds
a reference and the file goes when the last one closes (or when the process exits). Such projects are
kept apart by the save-time check of :meth:`~core.project.project.Project.save` instead.
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import json
import os
import secrets
import socket
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from core.atomic_write import pid_alive
from core.project.errors import ProjectLockedError, ProjectReadOnlyError

LOCK_FILE = "project.lock"
_FORMAT = "framewatch-lock"
#: Seconds between attempts while waiting for a lock.
_POLL_S = 0.1
#: A lock file still empty or unreadable after this many seconds was left by a writer that died while
#: creating it (a holder writes its few hundred bytes right after creating the file).
_UNREADABLE_STALE_S = 10.0


@dataclass(frozen=True)
class LockOwner:
    """Who holds a project lock. ``since`` is ISO 8601 local time with offset; ``started`` the process
    start time in clock ticks since boot (``None`` where unknown); ``boot`` the boot id (``""`` if unknown)."""

    program: str
    user: str
    host: str
    pid: int
    since: str
    token: str
    started: int | None = None
    boot: str = ""

    def describe(self) -> str:
        """``Framewatch (GUI) by alice on host1, PID 123, since 10:02`` (the date too if not today)."""
        try:
            when = datetime.fromisoformat(self.since)
            local = when.astimezone() if when.tzinfo else when
            since = local.strftime("%H:%M" if local.date() == datetime.now().date() else "%Y-%m-%d %H:%M")
        except ValueError:
            since = self.since or "an unknown time"
        return f"{self.program} by {self.user} on {self.host}, PID {self.pid}, since {since}"

    def on_this_host(self) -> bool:
        return self.host == socket.gethostname()

    def is_alive(self) -> bool:
        """Whether the holder still runs. Only answerable on its own host: another host's holder counts as alive."""
        if not self.on_this_host():
            return True
        boot = _boot_id()
        if self.boot and boot and self.boot != boot:
            return False  # made before this machine restarted
        if not pid_alive(self.pid):
            return False
        started = process_start_time(self.pid)
        return self.started is None or started is None or started == self.started


def _boot_id() -> str:
    with contextlib.suppress(OSError):
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return ""


def process_start_time(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (``/proc/<pid>/stat`` field 22); ``None``
    where the system does not say. Two processes with one PID never have the same start time."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def default_program() -> str:
    """What this process is, for the lock file: ``Framewatch (GUI)`` for the desktop app, ``framewatch
    train`` for the CLI, else the script's name."""
    if "desktop_app.shell.main_window" in sys.modules:  # the desktop app is running in this process
        return "Framewatch (GUI)"
    argv = sys.argv or [""]
    script = Path(argv[0])
    if script.name == "framewatch" or script.parts[-3:] == ("core", "cli", "main.py"):
        return " ".join(["framewatch", *[a for a in argv[1:2] if not a.startswith("-")]])
    if script.name == "__main__.py":  # python -m package
        return script.parent.name
    return script.name or "python"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown user"


def lock_path(folder: Path) -> Path:
    return Path(folder) / LOCK_FILE


def read_owner(folder: Path) -> LockOwner | None:
    """The holder recorded in ``folder``'s lock file; ``None`` if there is none or it cannot be read yet."""
    return _read_lock_file(lock_path(folder))


def _read_lock_file(path: Path) -> LockOwner | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            return None
        started = doc.get("started")
        return LockOwner(
            program=str(doc["program"]), user=str(doc["user"]), host=str(doc["host"]), pid=int(doc["pid"]),
            since=str(doc["since"]), token=str(doc["token"]),
            started=int(started) if isinstance(started, int) else None, boot=str(doc.get("boot", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def live_owner(folder: Path) -> LockOwner | None:
    """The holder of ``folder``'s lock if it is another, live process (of this host or any other)."""
    owner = read_owner(folder)
    if owner is None or (owner.on_this_host() and owner.pid == os.getpid()):
        return None
    return owner if owner.is_alive() else None


class ProjectLock:
    """This process's hold on a project folder (see the module doc). Get one with :func:`acquire`."""

    def __init__(self, folder: Path, owner: LockOwner, took_over: LockOwner | None) -> None:
        self.folder = folder
        self.owner = owner
        #: The dead holder whose stale lock this one replaced (``None`` if the folder was free).
        self.took_over = took_over
        self._users = 0

    @property
    def path(self) -> Path:
        return lock_path(self.folder)

    @property
    def users(self) -> int:
        """How many open projects of this process share the lock."""
        return self._users

    def release(self) -> None:
        """Drop one reference; the last one removes the lock file (only if it is still this lock)."""
        with _registry_lock:
            self._users -= 1
            if self._users > 0:
                return
            _held.pop(self.folder, None)
        current = read_owner(self.folder)
        if current is not None and current.token == self.owner.token:
            with contextlib.suppress(OSError):
                self.path.unlink()


#: Locks this process holds, by folder, and the lock that guards that table.
_held: dict[Path, ProjectLock] = {}
_registry_lock = threading.RLock()  # re-entrant: a finalizer may release a lock while GC runs inside acquire


def _create(folder: Path, program: str) -> LockOwner | None:
    """Make the lock file; ``None`` if it already exists."""
    owner = LockOwner(program=program, user=_user(), host=socket.gethostname(), pid=os.getpid(),
                      since=datetime.now().astimezone().isoformat(timespec="seconds"), token=secrets.token_hex(8),
                      started=process_start_time(os.getpid()), boot=_boot_id())
    text = json.dumps({"format": _FORMAT, **asdict(owner)}, indent=1).encode("utf-8")
    try:
        fd = os.open(lock_path(folder), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return None
    except OSError as exc:  # a read-only folder or medium: nobody can write the project here
        raise ProjectReadOnlyError(f"cannot be opened for writing: its lock file cannot be made "
                                   f"({exc.strerror or exc}); open it read-only", folder / "project.json") from exc
    try:
        os.write(fd, text)  # a few hundred bytes: one write, so a reader sees all of it or an empty file
        os.fsync(fd)
    finally:
        os.close(fd)
    return owner


def _remove_stale(folder: Path, seen: LockOwner | None) -> bool:
    """Remove the lock file if it is still the stale one that was read (``seen``; ``None``: unreadable)."""
    path = lock_path(folder)
    aside = path.with_name(f".{LOCK_FILE}.{os.getpid()}-{secrets.token_hex(3)}.stale")
    try:
        os.replace(path, aside)  # one process wins the rename; it then checks it took the file it judged
    except OSError:
        return False
    moved = _read_lock_file(aside) if seen is not None else None
    if seen is not None and (moved is None or moved.token != seen.token):
        with contextlib.suppress(OSError):  # another opener's fresh lock: put it back unless one is there
            os.link(aside, path)
        with contextlib.suppress(OSError):
            aside.unlink()
        return False
    with contextlib.suppress(OSError):
        aside.unlink()
    return True


def acquire(folder: str | Path, program: str | None = None, wait_s: float = 0.0) -> ProjectLock:
    """Hold ``folder``'s lock for this process; the caller must :meth:`ProjectLock.release` it.

    Waits up to ``wait_s`` seconds for another live holder to finish, then raises
    :class:`ProjectLockedError` naming it. A stale lock (see the module doc) is taken over at once.
    """
    folder = Path(os.path.abspath(folder))
    program = program or default_program()
    deadline = time.monotonic() + max(0.0, wait_s)
    took_over: LockOwner | None = None
    unreadable_since: float | None = None
    while True:
        with _registry_lock:
            mine = _held.get(folder)
            if mine is not None:
                mine._users += 1
                return mine
            owner = _create(folder, program)
            if owner is not None:
                lock = ProjectLock(folder, owner, took_over)
                lock._users = 1
                _held[folder] = lock
                return lock
        holder = read_owner(folder)
        if holder is None and not lock_path(folder).exists():
            continue  # its holder just released it
        if holder is None:
            unreadable_since = unreadable_since or time.monotonic()
            if (time.monotonic() - unreadable_since >= _UNREADABLE_STALE_S or _old(folder)) and _remove_stale(
                    folder, None):
                continue
        elif _stale(holder) and _remove_stale(folder, holder):
            took_over = holder
            continue
        # else: held, or a stale lock not removed (another opener took it over first, or no permission)
        now = time.monotonic()
        being_written = holder is None and unreadable_since is not None and now - unreadable_since < 1.0
        if now >= deadline and not being_written:
            raise ProjectLockedError(holder, folder / "project.json")
        time.sleep(_POLL_S)


def _stale(holder: LockOwner) -> bool:
    """Dead, or this process's own lock that no project holds any more (left by a fork, say)."""
    return not holder.is_alive() or (holder.on_this_host() and holder.pid == os.getpid())


def _old(folder: Path) -> bool:
    """Whether the (unreadable) lock file was last written long ago."""
    try:
        return time.time() - lock_path(folder).stat().st_mtime >= _UNREADABLE_STALE_S
    except OSError:
        return False


@atexit.register
def _release_all() -> None:
    """Remove the lock files this process still holds when it exits normally (a killed process leaves
    its lock, which the next opener finds stale and takes over)."""
    with _registry_lock:
        locks = list(_held.values())
    for lock in locks:
        lock._users = 1
        lock.release()
