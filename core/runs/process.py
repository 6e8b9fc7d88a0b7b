"""Which process a run belongs to, and whether that process is still alive.

``run.json`` of a running run records the training process: its PID, the host name and the process's
start time (``/proc/<pid>/stat`` field 22, clock ticks since boot, with the boot id), so that a PID
reused after a reboot or by another program is not mistaken for the run. A ``running`` run whose
process is gone (killed with SIGKILL, a power cut, a crash of the interpreter) was interrupted: its
last finished epoch is on disk and it can be resumed.
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: Process ids are C ints: a larger number (a damaged record) names no process.
MAX_PID = 2**31 - 1


@dataclass(frozen=True)
class ProcessId:
    """``pid`` on ``host``; ``started`` is ``"<boot id>:<start ticks>"`` where /proc tells it, else ``""``."""

    pid: int
    host: str
    started: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ProcessId | None:
        pid = data.get("pid") if isinstance(data, dict) else None
        if isinstance(pid, bool) or not isinstance(pid, int) or not 1 <= pid <= MAX_PID:  # none, or not a process id
            return None
        return cls(int(data["pid"]), str(data.get("host", "")), str(data.get("started", "")))


def _start_stamp(pid: int) -> str:
    """Boot id and start time of ``pid`` (Linux); ``""`` where /proc does not tell."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2:].split()  # the command name may hold spaces and parentheses
    return f"{boot}:{fields[19]}" if len(fields) > 19 else ""


def this_process() -> ProcessId:
    pid = os.getpid()
    return ProcessId(pid, socket.gethostname(), _start_stamp(pid))


def is_alive(process: ProcessId) -> bool | None:
    """``True`` / ``False`` for a process of this host; ``None`` when it ran on another host (cannot tell)."""
    if process.host != socket.gethostname():
        return None
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        pass
    except OSError:
        return False
    try:  # a killed process its parent has not reaped yet is a zombie: gone for our purposes
        stat = Path(f"/proc/{process.pid}/stat").read_text()
        if stat[stat.rfind(")") + 2:].startswith("Z"):
            return False
    except OSError:
        pass
    if process.started:
        stamp = _start_stamp(process.pid)
        if stamp and stamp != process.started:  # the PID now belongs to another process
            return False
    return True
