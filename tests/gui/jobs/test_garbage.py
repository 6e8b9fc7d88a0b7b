"""Reference cycles are collected on the GUI thread, never on a job's thread."""

from __future__ import annotations

import gc
import threading

from desktop_app.jobs import install_gui_garbage_collector


class _Cycle:
    def __init__(self, log: list[bool]) -> None:
        self.log = log
        self.me = self  # only the cyclic collector frees it

    def __del__(self) -> None:
        self.log.append(threading.current_thread() is threading.main_thread())


def test_cycles_made_and_dropped_on_a_job_thread_are_collected_on_the_gui_thread(qtbot, qapp) -> None:
    collector = install_gui_garbage_collector(qapp)
    assert install_gui_garbage_collector(qapp) is collector  # one per app
    assert not gc.isenabled()
    log: list[bool] = []

    def job() -> None:
        for _ in range(5 * collector.thresholds[0]):  # far past the interpreter's threshold
            _Cycle(log)

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert log == []  # nothing was collected on the job's thread
    qtbot.waitUntil(lambda: len(log) > 0, timeout=5000)  # the GUI thread's timer collected them
    assert all(log)
