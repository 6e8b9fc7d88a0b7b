"""Fixtures of the GUI tests: a small project, main windows with their own settings, a patient qtbot, and
the guard that answers stray modal dialogs (so a failing test fails instead of hanging the run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from core.project import Project
from desktop_app.jobs import error_dialog
from desktop_app.shell.main_window import MainWindow
from tests.gui.patient_qtbot import PatientQtBot
from tests.gui.teardown_guard import (  # noqa: F401 - a fixture and hooks, registered by being here
    pytest_runtest_call,
    pytest_runtest_teardown,
    stray_modal_guard,
)
from tests.gui.window_driver import Answer, make_clip


@pytest.fixture(autouse=True, scope="session")
def _garbage_collected_on_the_gui_thread(qapp):
    """As in the app: reference cycles holding Qt objects die on the GUI thread, never on a job's thread."""
    from desktop_app.jobs import install_gui_garbage_collector

    install_gui_garbage_collector(qapp)


@pytest.fixture
def qtbot(qapp, request) -> PatientQtBot:
    """pytest-qt's ``qtbot``, whose waits that fail on timeout allow at least a minute (see patient_qtbot)."""
    return PatientQtBot(request)


@pytest.fixture(autouse=True)
def _non_blocking_dialogs():
    """Error boxes open without a nested event loop, before, during and after each test.

    Set directly rather than with ``monkeypatch``, whose undo would restore the app's blocking default
    between tests, when a job left running by one test may still report an error. A test that wants a
    real blocking box patches ``DIALOGS_BLOCK`` itself; its undo comes back here. Boxes left open are
    closed by the teardown guard (teardown_guard.py).
    """
    error_dialog.DIALOGS_BLOCK = False
    error_dialog.shown.clear()
    yield
    error_dialog.DIALOGS_BLOCK = False


@pytest.fixture(autouse=True)
def _training_at_the_tests_priority(monkeypatch):
    """Training jobs keep the test process's scheduling priority.

    In the app the training thread lowers its own (``nice`` +10, desktop_app.training.job) so that the GUI
    stays responsive. Beside CPU-bound processes of normal priority (a busy CI machine, .ci/busy-cores)
    such a thread gets about a tenth of a core (scheduler weights 110 against 1024), and a tiny test run
    takes many minutes. tests/gui/test_training_priority.py checks the lowering itself.
    """
    from desktop_app.training import job

    monkeypatch.setattr(job, "lower_thread_priority", lambda increment=job.NICE_INCREMENT: False)


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    clip = make_clip(tmp_path / "levels.avi")
    project = Project.create(tmp_path / "proj", name="Test project")
    project.add_video(clip)
    project.add_class("walk", color="#56b4e9", shortcut="1")
    project.add_class("bike", color="#e69f00", shortcut="2")
    project.save()
    project.close()
    return project.folder


@pytest.fixture
def make_window(qtbot, tmp_path: Path):
    windows: list[MainWindow] = []

    def make(answer: Answer = Answer.Discard) -> MainWindow:
        settings = QSettings(str(tmp_path / f"settings{len(windows)}.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, autosave_interval_s=3600)
        window.state.ask = lambda *a, **k: answer  # type: ignore[method-assign]
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        window.activateWindow()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for w in windows:
        w.state.ask = lambda *a, **k: Answer.Discard  # type: ignore[method-assign]
        w.close()
