"""Run a plain ``core`` job on a worker thread and hear about it through Qt signals.

A long job in ``core`` is a function that takes ``progress`` (a callback receiving
:class:`core.jobs.Progress`) and ``cancel`` (a :class:`threading.Event`). :class:`Worker` runs it on
the global :class:`QThreadPool` and relays what happens as signals that are always delivered on the
GUI thread, whatever the slot (bound method, lambda, plain function):

- ``progress(Progress)`` while it runs,
- ``finished(result)`` when it returns,
- ``error(exception)`` when it raises (``Cancelled`` included, so callers can tell),
- ``done()`` after either of the two.

``cancel()`` sets the job's event; the job stops at its next :func:`core.jobs.check_cancelled`.
The GUI thread never runs the job itself.

Nothing the job touches is let go on the pool thread: the job's function (often a bound method of a
widget or controller), its result and its exception (whose traceback holds the job's frames) are held
by the :class:`Worker` until the pool thread has dropped every reference of its own, and the worker
leaves :data:`_ALIVE` only then, on the GUI thread. Otherwise the last reference to a widget could die
on the pool thread, which destroys a Qt object off its thread (and can deadlock against the GUI
thread on Qt's connection lock).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from core.errors import Cancelled
from core.jobs import Progress

#: Workers alive (queued, running, or finished while their pool thread still lets go of the job); holding
#: them here keeps Python from collecting them, or anything of their job, on the pool thread.
_ALIVE: set[Worker] = set()


class _Relay(QObject):
    """Signals emitted from the pool thread; queued to the :class:`Worker` on the GUI thread."""

    progress = Signal(object)
    finished = Signal(object)
    error = Signal(object)
    released = Signal()  # the pool thread holds nothing of the job any more


class _Runnable(QRunnable):
    def __init__(self, call: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._call = call
        self._relay = relay

    def run(self) -> None:
        self._run()  # the job, its result and its exception live in that frame only
        with contextlib.suppress(RuntimeError):  # the app is shutting down and the relay is gone
            self._relay.released.emit()

    def _run(self) -> None:
        call, self._call = self._call, None
        try:
            result = call()
        except BaseException as exc:  # noqa: BLE001 - every failure goes to the error signal
            self._emit(self._relay.error, exc)
        else:
            self._emit(self._relay.finished, result)

    @staticmethod
    def _emit(signal, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app is shutting down and the relay is gone
            signal.emit(value)


class Worker(QObject):
    """One job running off the GUI thread.

    ``fn(*args, **kwargs, progress=..., cancel=...)`` is called on a pool thread; pass
    ``progress=False`` or ``cancel=False`` for functions that do not take those keywords.
    Create it on the GUI thread, connect its signals, then call :meth:`start`.
    """

    progress = Signal(object)  # Progress
    finished = Signal(object)  # the job's return value
    error = Signal(object)  # the exception it raised
    done = Signal()

    def __init__(
        self,
        fn: Callable[..., Any],
        *args: Any,
        progress: bool = True,
        cancel: bool = True,
        name: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.name = name or getattr(fn, "__name__", "job")
        self.cancel_event = threading.Event()
        self.result: Any = None
        self.exception: BaseException | None = None
        self.is_running = False
        self.is_done = False
        self._relay = _Relay(self)  # owned by the worker, so the pool thread's reference never destroys it
        self._relay.progress.connect(self._on_progress)
        self._relay.finished.connect(self._on_finished)
        self._relay.error.connect(self._on_error)
        self._relay.released.connect(self._on_released)
        if progress:
            kwargs["progress"] = self._relay.progress.emit
        if cancel:
            kwargs["cancel"] = self.cancel_event
        self._call = lambda: fn(*args, **kwargs)

    # -- control --------------------------------------------------------------------------------
    def start(self, pool: QThreadPool | None = None) -> Worker:
        """Queue the job on ``pool`` (default: the global pool); returns ``self``."""
        if self.is_running or self.is_done:
            raise RuntimeError(f"worker {self.name!r} was already started")
        self.is_running = True
        _ALIVE.add(self)
        (pool or QThreadPool.globalInstance()).start(_Runnable(self._call, self._relay))
        return self

    def cancel(self) -> None:
        """Ask the job to stop; it raises :class:`Cancelled`, delivered through ``error``."""
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return isinstance(self.exception, Cancelled)

    # -- relays (run on the GUI thread) -----------------------------------------------------------
    @Slot(object)
    def _on_progress(self, event: Progress) -> None:
        if not self.is_done:
            self.progress.emit(event)

    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        self.result = result
        self._finish()
        self.finished.emit(result)
        self.done.emit()

    @Slot(object)
    def _on_error(self, exc: BaseException) -> None:
        self.exception = exc
        self._finish()
        self.error.emit(exc)
        self.done.emit()

    def _finish(self) -> None:
        self.is_running = False
        self.is_done = True

    @Slot()
    def _on_released(self) -> None:
        _ALIVE.discard(self)  # on the GUI thread: the job's objects die here, if nothing else holds them


def run_in_thread(
    fn: Callable[..., Any],
    *args: Any,
    on_finished: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    progress: bool = True,
    cancel: bool = True,
    **kwargs: Any,
) -> Worker:
    """Shorthand: build a :class:`Worker`, connect the given callbacks, start it and return it."""
    worker = Worker(fn, *args, progress=progress, cancel=cancel, **kwargs)
    if on_finished is not None:
        worker.finished.connect(on_finished)
    if on_error is not None:
        worker.error.connect(on_error)
    if on_progress is not None:
        worker.progress.connect(on_progress)
    return worker.start()


def active_workers() -> list[Worker]:
    """Workers queued or running now (for a clean shutdown)."""
    return [worker for worker in _ALIVE if not worker.is_done]
