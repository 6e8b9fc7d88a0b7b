"""A GUI test that leaves a modal dialog open or a job running fails, and a run with a hung modal dialog
ends: never a hang.

Each check runs pytest on a small test file in a child process (with this project's pytest settings), so a
hang would be the child's, ended by ``subprocess.run``'s timeout, which fails the check.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO

CHILD_LIMIT_S = 300  # far beyond what each child needs; reaching it means the child hung

STRAY_TESTS = '''
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

import threading

import tests.gui.left_jobs as left_jobs
import tests.gui.stray_modals as stray_modals
from desktop_app.jobs import Worker

stray_modals.BODY_GRACE_S = 1.0  # the real grace is a minute
left_jobs.JOB_END_LIMIT_S = 2.0  # the real limit is two minutes


def box(title, text):
    return QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok)


def test_leaves_a_box_open(qapp):
    kept = box("Stray", "shown by the test and never closed")
    kept.show()
    test_leaves_a_box_open.kept = kept


@pytest.fixture
def late_error(qapp):
    yield
    box("Late error", "a job failed after the test ended").exec()  # as a job's error in teardown


def test_a_blocking_box_opens_in_teardown(late_error):
    pass


def test_nobody_answers_a_blocking_box(qapp):
    assert box("Unanswered", "nobody clicks").exec() == QMessageBox.StandardButton.Ok


def test_leaves_a_job_that_stops_when_cancelled(qapp):
    def job(progress=None, cancel=None):
        cancel.wait(600)
    test_leaves_a_job_that_stops_when_cancelled.worker = Worker(job, name="obliging").start()


def test_the_left_job_was_cancelled_and_ended(qapp):
    assert test_leaves_a_job_that_stops_when_cancelled.worker.is_done


STOP = threading.Event()


def test_leaves_a_job_that_ignores_cancel(qapp):
    Worker(lambda: STOP.wait(600), progress=False, cancel=False, name="stubborn").start()


def test_lets_the_stubborn_job_go(qapp):
    STOP.set()


def test_leaves_a_job_with_its_progress_dialog_shown(qapp):
    from PySide6.QtTest import QTest

    from desktop_app.jobs import run_job

    def job(progress=None, cancel=None):
        cancel.wait(600)

    worker = run_job(None, "Long job", job)
    worker.dialog.show()  # as after its minimum duration
    QTest.qWait(1500)  # past the grace: a progress dialog blocks nothing and is left alone
    assert worker.dialog.isVisible()
    test_leaves_a_job_with_its_progress_dialog_shown.worker = worker


def test_the_job_and_its_progress_dialog_were_ended(qapp):
    assert test_leaves_a_job_with_its_progress_dialog_shown.worker.is_done
    assert not [w for w in QApplication.topLevelWidgets() if w.isVisible()]


@pytest.fixture
def closed_at_teardown(qapp):
    from PySide6.QtTest import QTest

    dialogs = []
    yield dialogs
    QTest.qWait(300)  # teardown work that handles events while the dialog is still open
    for dialog in dialogs:
        dialog.close()


def test_leaves_its_dialog_for_a_fixture_to_close(closed_at_teardown):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialog

    dialog = QDialog()
    closed_at_teardown.append(dialog)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.show()


def test_answers_its_own_box(qapp):
    shown = box("Answered", "the test clicks OK")
    QTimer.singleShot(50, lambda: shown.button(QMessageBox.StandardButton.Ok).click())
    assert shown.exec() == QMessageBox.StandardButton.Ok
    assert QApplication.activeModalWidget() is None
'''

HUNG_TEST = '''
from PySide6.QtWidgets import QMessageBox


def test_waits_for_a_click_forever(qapp):
    QMessageBox(QMessageBox.Icon.Warning, "Hung", "nobody answers").exec()
'''


def run_child(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_child_modals.py"
    test_file.write_text(textwrap.dedent(source))
    command = [sys.executable, "-m", "pytest", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path),
               "-p", "no:cacheprovider", "-q", *args, str(test_file)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=CHILD_LIMIT_S,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def test_a_modal_dialog_or_job_left_behind_fails_its_test_with_its_text_and_the_run_goes_on(tmp_path) -> None:
    child = run_child(tmp_path, STRAY_TESTS, "-p", "tests.gui.teardown_guard", "-rA")
    out = child.stdout + child.stderr
    assert child.returncode == 1, out
    # a box shown and left: the test fails at teardown, naming it
    assert "ERROR" in out and "test_leaves_a_box_open" in out and "shown by the test and never closed" in out
    # a blocking box opened in teardown (a late job error) is answered, and the test fails naming it
    assert "test_a_blocking_box_opens_in_teardown" in out and "a job failed after the test ended" in out
    # a blocking box nobody answers in the body is answered after the grace, and the test fails naming it
    assert "test_nobody_answers_a_blocking_box" in out and "nobody clicks" in out
    # a test that answers its own box passes: the guard leaves boxes alone in a test's body
    assert re.search(r"PASSED \S*::test_answers_its_own_box", out)
    assert not re.search(r"ERROR \S*::test_answers_its_own_box", out)
    # a job left running is cancelled and waited for: one that stops passes quietly, one that will not fails
    assert re.search(r"PASSED \S*::test_the_left_job_was_cancelled_and_ended", out)
    assert not re.search(r"ERROR \S*::test_leaves_a_job_that_stops_when_cancelled", out)
    assert re.search(r"ERROR \S*::test_leaves_a_job_that_ignores_cancel", out)
    assert "job(s) still running 2 s after being cancelled: stubborn" in out
    assert re.search(r"PASSED \S*::test_the_job_and_its_progress_dialog_were_ended", out)
    assert not re.search(r"ERROR \S*::test_leaves_a_job_with_its_progress_dialog_shown", out)
    # a dialog the body leaves open for its fixture (or pytest-qt's qtbot.addWidget) to close is no stray
    assert re.search(r"PASSED \S*::test_leaves_its_dialog_for_a_fixture_to_close", out)
    assert not re.search(r"ERROR \S*::test_leaves_its_dialog_for_a_fixture_to_close", out)
    assert "11 passed, 4 errors" in out  # each body ran to its end; the four that left something failed at teardown


def test_a_hung_modal_dialog_ends_the_run_with_every_threads_stack(tmp_path) -> None:
    child = run_child(tmp_path, HUNG_TEST, "--timeout", "5")  # no guard: only pytest-timeout can end it
    out = child.stdout + child.stderr
    assert child.returncode != 0
    assert "Timeout" in out and "test_waits_for_a_click_forever" in out and "exec()" in out, out
