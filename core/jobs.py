"""Progress reporting and cancellation shared by every long job in ``core``.

A long job is a plain function that takes ``progress`` (a callable receiving :class:`Progress`
events, or ``None``) and ``cancel`` (a :class:`threading.Event`, or ``None``). It calls
:func:`check_cancelled` between units of work and raises :class:`~core.errors.Cancelled` when the
token is set. The GUI runs such a function in a worker thread and turns events into Qt signals; the
CLI renders the same events as a progress bar.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import Cancelled

CancelToken = threading.Event


@dataclass(frozen=True)
class Progress:
    """One progress report.

    ``done`` and ``total`` count units of work (frames, files, batches); ``total`` is ``None`` when
    unknown. ``message`` says what is happening, for a status line.
    """

    done: float
    total: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        """``done / total`` clipped to [0, 1], or ``None`` when the total is unknown."""
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


ProgressCallback = Callable[[Progress], None]


def check_cancelled(cancel: threading.Event | None, what: str = "job") -> None:
    """Raise :class:`Cancelled` if ``cancel`` is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{what} cancelled")


def report(progress: ProgressCallback | None, done: float, total: float | None = None, message: str = "") -> None:
    """Send one :class:`Progress` event to ``progress`` if there is a callback."""
    if progress is not None:
        progress(Progress(done, total, message))
