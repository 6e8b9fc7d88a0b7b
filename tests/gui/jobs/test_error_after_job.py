"""An error at the end of a job opens its box over nothing: one click dismisses it (blocking dialogs)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QApplication

from core.errors import CorruptVideoError, FramewatchError
from core.jobs import report
from desktop_app.jobs import error_dialog, run_job, show_error
from tests.gui.window_driver import BoxClicker, make_clip


@pytest.fixture
def release():
    """Lets the test's job end; set at teardown too, so a failed test never leaves it waiting on a pool thread."""
    event = threading.Event()
    yield event
    event.set()


@pytest.mark.parametrize("where", ["job raises", "on_finished shows an error"])
def test_an_error_at_the_end_of_a_job_opens_above_nothing_and_one_click_dismisses_it(
        qtbot, make_window, monkeypatch, release, where) -> None:
    window = make_window()
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)  # a real, blocking QMessageBox

    def job(progress=None, cancel=None):
        step = 0
        # Reports as a real job does until the test lets it end: the progress dialog shows once a report
        # comes after its minimum duration (or at Qt's own force-show time), however loaded the machine.
        while not release.wait(0.02):
            step += 1
            report(progress, 1 + step % 99, 100, "half way")
        if where == "job raises":
            raise CorruptVideoError("clip.mp4", "no frame decodes")
        return "done"

    def finished(_result) -> None:
        show_error(window, FramewatchError("clip.mp4: the result cannot be used"), "Job")

    worker = run_job(window, "Failing job", job, on_finished=finished if where != "job raises" else None)
    qtbot.waitUntil(lambda: worker.dialog.isVisible(), timeout=60_000)  # "half way" shown, then it ends
    clicker = BoxClicker(qtbot)
    clicker.start()
    release.set()
    qtbot.waitUntil(lambda: worker.is_done and clicker.clicks == 1, timeout=60_000)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=60_000)  # that one click closed it
    assert clicker.progress_visible == []  # the finished progress dialog was gone before the box opened
    assert "clip.mp4" in clicker.text
    assert window.isVisible()


def test_adding_a_corrupt_video_ends_in_one_dismissable_box(qtbot, make_window, project_dir, tmp_path,
                                                            monkeypatch) -> None:
    from tests.gui.window_driver import open_and_wait

    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)
    clicker = BoxClicker(qtbot)
    clicker.start()
    window.library.add_video_paths([bad, make_clip(tmp_path / "fine.avi", frames=5)])
    qtbot.waitUntil(lambda: not window.state.jobs and clicker.clicks == 1, timeout=60_000)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=60_000)
    assert clicker.progress_visible == [] and "broken.mp4" in clicker.text
    assert len(window.state.project.videos) == 2  # the readable one was added
