"""A view's job bar names the stage its job is in, from the reports' stage."""

from __future__ import annotations

import threading

from core.jobs import Stage, report
from desktop_app.jobs.job_bar import JobBar
from desktop_app.jobs.workers import Worker


def test_the_bar_names_the_stage_of_the_job_and_forgets_it_when_the_job_ends(qtbot) -> None:
    bar = JobBar()
    qtbot.addWidget(bar)
    gate = threading.Event()

    def job(progress=None, cancel=None) -> None:
        report(progress, 1, 4, "train.avi", Stage.CALIBRATING)
        assert gate.wait(60)
        report(progress, 3, 4, "test.avi", Stage.SCORING)

    worker = bar.track(Worker(job, name="score"))
    worker.start()
    qtbot.waitUntil(lambda: bar.progress.text() == "calibrating the threshold 25%", timeout=30_000)
    assert bar.progress.isTextVisible() and bar.cancel_button.isEnabled()
    gate.set()
    qtbot.waitUntil(lambda: worker.is_done and not bar.busy, timeout=30_000)
    assert not bar.progress.isTextVisible() and bar.progress.value() == 0
