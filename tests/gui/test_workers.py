"""The worker helper runs core jobs off the GUI thread and reports back on it."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread

from core.errors import Cancelled, CorruptVideoError
from core.jobs import Progress, check_cancelled, report
from desktop_app.jobs.workers import Worker, active_workers


def _job(n: int, progress=None, cancel=None) -> dict:
    for i in range(n):
        check_cancelled(cancel)
        report(progress, i + 1, n, "step")
    return {"thread": threading.current_thread().name, "n": n}


def test_worker_runs_off_the_gui_thread_and_reports_progress_on_it(qtbot) -> None:
    events: list[tuple[Progress, bool]] = []
    worker = Worker(_job, 5)
    gui = QThread.currentThread()
    worker.progress.connect(lambda e: events.append((e, QThread.currentThread() is gui)))
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.start()
    result = blocker.args[0]
    assert result["n"] == 5
    assert result["thread"] != threading.main_thread().name
    qtbot.waitUntil(lambda: len(events) == 5)
    assert [e.done for e, _ in events] == [1, 2, 3, 4, 5]
    assert all(on_gui for _, on_gui in events)
    assert worker.is_done and worker not in active_workers()


def test_worker_error_signal_carries_the_exception(qtbot) -> None:
    def bad(progress=None, cancel=None):
        raise CorruptVideoError("x.mp4", "no frame decodes")

    worker = Worker(bad)
    with qtbot.waitSignal(worker.error, timeout=5000) as blocker:
        worker.start()
    assert isinstance(blocker.args[0], CorruptVideoError)
    assert "x.mp4" in str(worker.exception)


def test_cancel_sets_the_jobs_event_and_ends_with_cancelled(qtbot) -> None:
    started = threading.Event()

    def slow(progress=None, cancel=None):
        started.set()
        while True:
            check_cancelled(cancel, "slow job")
            cancel.wait(0.01)

    worker = Worker(slow).start()
    assert started.wait(60)
    with qtbot.waitSignal(worker.error, timeout=5000) as blocker:
        worker.cancel()
    assert isinstance(blocker.args[0], Cancelled)
    assert worker.cancelled


def test_worker_cannot_start_twice(qtbot) -> None:
    worker = Worker(lambda: 1, progress=False, cancel=False)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    assert worker.result == 1
    with pytest.raises(RuntimeError):
        worker.start()


def test_progress_dialog_cancel_stops_the_job_quietly(qtbot, monkeypatch) -> None:
    from desktop_app.jobs import error_dialog
    from desktop_app.jobs.progress import run_job

    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", False)
    error_dialog.shown.clear()
    started = threading.Event()
    cancelled: list[bool] = []

    def slow(progress=None, cancel=None):
        started.set()
        n = 0
        while True:
            check_cancelled(cancel, "slow job")
            report(progress, n, 1000, f"step {n}")
            n += 1
            cancel.wait(0.005)

    worker = run_job(None, "Slow job", slow, on_cancelled=lambda: cancelled.append(True))
    assert started.wait(60)
    qtbot.waitUntil(lambda: worker.dialog.labelText().startswith("step"), timeout=5000)
    from PySide6.QtWidgets import QPushButton

    worker.dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    qtbot.waitUntil(lambda: worker.is_done, timeout=5000)
    assert worker.cancelled and cancelled == [True]
    assert error_dialog.shown == []  # cancelling is not an error


class _Tracked:
    """Records on which thread it is let go."""

    def __init__(self, log: list[bool]) -> None:
        self.log = log

    def __del__(self) -> None:
        self.log.append(threading.current_thread() is threading.main_thread())


class _Owner(_Tracked):
    def job(self, fail: bool, progress=None, cancel=None):
        if fail:
            held = _Tracked(self.log)  # in the job's frame: the exception's traceback keeps it
            raise ValueError(f"failed with {held!r}")
        return _Tracked(self.log)


@pytest.mark.parametrize("fail", [False, True])
def test_a_jobs_objects_are_let_go_on_the_gui_thread_even_when_its_pool_thread_is_slow(qtbot, monkeypatch,
                                                                                        fail: bool) -> None:
    import time

    from desktop_app.jobs import workers

    original = workers._Runnable._run

    def slow_to_let_go(self) -> None:
        original(self)
        time.sleep(0.3)  # the GUI thread handles finished/error and drops its own references meanwhile

    monkeypatch.setattr(workers._Runnable, "_run", slow_to_let_go)
    log: list[bool] = []
    done = []
    worker = Worker(_Owner(log).job, fail, progress=False, cancel=False)
    worker.done.connect(lambda: done.append(True))
    worker.start()
    del worker  # nothing but the worker machinery holds the job now
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    qtbot.waitUntil(lambda: len(log) == 2, timeout=5000)  # the owner, and the result or the frame's object
    assert all(log), "a job's object was let go on the pool thread"
    assert not active_workers()


def test_a_job_that_ends_after_its_window_is_deleted_tells_nobody(qtbot, monkeypatch) -> None:
    from PySide6.QtWidgets import QWidget
    from shiboken6 import delete

    from desktop_app.jobs import error_dialog
    from desktop_app.jobs.progress import run_job

    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", False)
    error_dialog.shown.clear()
    heard: list[object] = []
    for outcome in ("finished", "failed"):
        window = QWidget()
        gate = threading.Event()

        def job(progress=None, cancel=None, outcome=outcome, gate=gate):
            gate.wait(5)
            if outcome == "failed":
                raise ValueError("too late to tell")
            return 42

        worker = run_job(window, "Late job", job, on_finished=heard.append, on_error=heard.append)
        delete(window)  # the window is closed and gone while the job runs
        gate.set()
        qtbot.waitUntil(lambda worker=worker: worker.is_done, timeout=5000)
        qtbot.wait(50)
    assert heard == [] and error_dialog.shown == []
