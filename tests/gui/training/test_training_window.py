"""Training from the main window: Model > Train a Model (Ctrl+T) shows the Training dock; a run streams its
events into the curve, keeps going while the dock is hidden, and is cancelled from the Model menu or by
closing the window; a finished run's "Score this run" becomes the state's model run; deleting it clears it.
The same tiny autoencoder as the panel's tests (4 filters, 16x16 frames, 4-frame clips, 3 batches an epoch)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from core.project import Project
from core.runs import RunRecord
from core.training import events as ev
from desktop_app.jobs import error_dialog
from tests.gui.training.test_training_panel import RUN_TIMEOUT_MS, click, tiny
from tests.gui.window_driver import open_and_wait
from tests.video_factory import write_video


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    project = Project.create(tmp_path / "proj", name="training")
    for k in range(2):  # one video for training, one held out for validation
        project.add_video(write_video(tmp_path / f"walk{k}.avi", 40 + 4 * k))
    project.save()
    project.close()
    return project.folder


def open_training(qtbot, make_window, folder: Path):
    window = make_window()
    open_and_wait(qtbot, window, folder)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.player.view, timeout=5000)
    dock = window.docks["Training"]
    assert window.training.panel.visibleRegion().isEmpty()  # behind the Error chart tab at first
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.training.panel.visibleRegion().isEmpty(), timeout=5000)
    assert dock.isVisible() and window.training.panel.project is window.state.project
    qtbot.waitUntil(lambda: dock.height() >= 0.4 * window.height(), timeout=5000)  # room for form and curves
    from PySide6.QtWidgets import QScrollArea

    options = window.training.panel.findChild(QScrollArea)
    assert options.widget() is window.training.panel.form
    assert options.viewport().width() >= window.training.panel.form.minimumSizeHint().width()  # no label cut
    return window, window.training.panel


def test_train_from_the_window_watch_the_curve_hide_the_dock_and_cancel(qtbot, make_window, folder) -> None:
    window, panel = open_training(qtbot, make_window, folder)
    tiny(panel, epochs=50)
    menu_titles = [a.text() for a in window.menuBar().actions()]
    assert "&Model" in menu_titles
    cancel = window.actions_by_key["cancel_training"]
    assert not cancel.isEnabled()
    batches: list[int] = []
    panel.event_received.connect(lambda e: batches.append(len(panel.curves.loss_x))
                                 if isinstance(e, ev.BatchEnded) else None)
    with qtbot.waitSignal(panel.run_started, timeout=RUN_TIMEOUT_MS):
        click(qtbot, panel.start_button)
    assert panel.worker in window.state.jobs and cancel.isEnabled()  # closing the window would cancel it
    qtbot.waitUntil(lambda: len(batches) >= 2, timeout=RUN_TIMEOUT_MS)
    # the dock hidden: the run goes on and the curve keeps growing
    window.docks["Training"].close()
    qtbot.waitUntil(lambda: not panel.isVisible(), timeout=5000)
    seen = len(batches)
    qtbot.waitUntil(lambda: len(batches) >= seen + 2, timeout=RUN_TIMEOUT_MS)
    assert batches == list(range(1, len(batches) + 1))  # one curve point per batch, in order
    assert panel.is_training
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        cancel.trigger()
    run_dir, status = ended.args
    assert status == "cancelled" and error_dialog.shown == []
    assert not cancel.isEnabled() and window.state.jobs == []
    assert RunRecord.load(run_dir).status == "cancelled"


def test_a_finished_run_is_listed_scored_from_the_table_and_deleted(qtbot, make_window, folder) -> None:
    window, panel = open_training(qtbot, make_window, folder)
    tiny(panel, epochs=1)
    with qtbot.waitSignal(panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        click(qtbot, panel.start_button)
    run_dir, status = ended.args
    assert status == "completed" and panel.runs.row_of(run_dir) is not None
    assert panel.runs.selected_run() == run_dir
    with qtbot.waitSignal(window.state.model_run_changed) as chosen:
        click(qtbot, panel.score_button)
    assert chosen.args == [run_dir.name] and window.state.model_run == run_dir.name
    assert window.review.run is not None and window.review.run.run_dir == run_dir  # the review feature follows
    # delete: the question goes through state.ask; "No" keeps the run
    window.state.ask = lambda *a, **k: QMessageBox.StandardButton.No
    click(qtbot, panel.delete_button)
    assert run_dir.is_dir() and window.state.model_run == run_dir.name
    window.state.ask = lambda *a, **k: QMessageBox.StandardButton.Yes
    click(qtbot, panel.delete_button)
    assert not run_dir.exists() and panel.runs.row_of(run_dir) is None
    assert window.state.model_run is None  # the deleted run is no longer the model run


def test_closing_the_window_cancels_the_run(qtbot, make_window, folder) -> None:
    window, panel = open_training(qtbot, make_window, folder)
    tiny(panel, epochs=50)
    with qtbot.waitSignal(panel.run_started, timeout=RUN_TIMEOUT_MS) as started:
        click(qtbot, panel.start_button)
    (run_dir,) = started.args
    worker = panel.worker
    window.close()
    qtbot.waitUntil(lambda: worker.is_done, timeout=RUN_TIMEOUT_MS)
    assert worker.cancelled
    qtbot.waitUntil(lambda: RunRecord.load(run_dir).status == "cancelled", timeout=RUN_TIMEOUT_MS)
