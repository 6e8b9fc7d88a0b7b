"""Jobs a GUI test leaves running: cancelled and waited for after its teardown.

The global QThreadPool runs one job per core. A job a test left running (a training run whose test failed
before its end, a rollout nobody waited for) would hold a pool thread while the next tests queue theirs
behind it, and could report into a later test. The teardown guard calls :func:`end_left_jobs`.
"""

from __future__ import annotations

import time

from PySide6.QtTest import QTest

from desktop_app.jobs import active_workers

#: How long cancelled jobs may take to end, in seconds: a training job stops at its next batch.
JOB_END_LIMIT_S = 120.0


def end_left_jobs() -> list[str]:
    """Cancel the jobs still queued or running and process events until they end; the names of those
    still running after :data:`JOB_END_LIMIT_S`."""
    left = active_workers()
    for worker in left:
        worker.cancel()
    deadline = time.monotonic() + JOB_END_LIMIT_S
    while active_workers() and time.monotonic() < deadline:
        QTest.qWait(20)  # the GUI thread hears of each job's end
    return sorted(worker.name for worker in active_workers())
