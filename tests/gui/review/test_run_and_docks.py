"""The review feature in the window: Ctrl+R brings the Error chart over the Training tab, and the model
run chosen for a project is chosen again when it is next opened, after a restart too."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from desktop_app.shell.main_window import MainWindow
from tests.core.inference.scoring_project import make_project, save_run
from tests.gui.window_driver import no_device_listing

TEST_FRAMES = 22


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = make_project(tmp_path / "proj", test_frames=TEST_FRAMES)
    save_run(folder, "tiny")
    save_run(folder, "second")
    return folder


def window_with(qtbot, settings_file: Path) -> MainWindow:
    """A main window as after a start of the app: its settings in ``settings_file``."""
    window = MainWindow(settings=QSettings(str(settings_file), QSettings.Format.IniFormat), autosave_interval_s=3600)
    window.state.ask = lambda *a, **k: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_ctrl_r_brings_the_regularity_chart_over_the_training_tab(qtbot, make_window, folder, monkeypatch) -> None:
    window = make_window()
    no_device_listing(monkeypatch, window)
    window.resize(1280, 800)
    assert window.library.open_project_path(folder)
    window.state.set_model_run("tiny")
    test = window.state.project.video("test.avi").id
    window.state.set_video(test)
    qtbot.waitUntil(lambda: window.player.has_video and window.state.video_id == test, timeout=10000)
    chart, training = window.review.chart_panel, window.training.panel
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not training.visibleRegion().isEmpty(), timeout=5000)
    assert chart.visibleRegion().isEmpty()  # Training is the tab in front
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not chart.visibleRegion().isEmpty(), timeout=5000)
    assert training.visibleRegion().isEmpty()
    qtbot.waitUntil(lambda: not window.review.scoring and window.review.chart.frames == TEST_FRAMES, timeout=60000)


def test_the_chosen_run_is_chosen_again_after_a_restart(qtbot, tmp_path, folder) -> None:
    settings = tmp_path / "settings.ini"
    other = tmp_path / "other"
    shutil.copytree(folder, other)  # the same run names in another project, and one more
    save_run(other, "third")
    first = window_with(qtbot, settings)
    assert first.library.open_project_path(folder)
    assert first.state.model_run is None  # two runs score: none is chosen for the analyst
    first.state.set_model_run("second")
    assert first.library.open_project_path(other)
    first.state.set_model_run("tiny")
    first.close()

    second = window_with(qtbot, settings)  # the app started again
    assert second.library.open_project_path(folder)
    assert second.state.model_run == "second" and second.review.run.run_dir.name == "second"
    assert second.library.open_project_path(other)
    assert second.state.model_run == "tiny"  # each project keeps its own choice
    second.close()
    shutil.rmtree(other / "runs" / "tiny")  # a remembered run deleted since is not chosen

    third = window_with(qtbot, settings)
    assert third.library.open_project_path(other)
    assert third.state.model_run is None  # two runs score ("second", "third"): none is chosen
    third.close()
