"""The Predicted frames dock in the main window: it follows the playhead, the video and the state's model
run (a next-frame run rolls out, a classify run's segments fill the timeline's Segments lane and export an
annotated copy, another run says why there is nothing), and works only while the dock is in sight."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.project import Project
from core.runs import RunRecord
from desktop_app.jobs import error_dialog
from desktop_app.prediction import SEGMENTS_LANE
from tests.core.cli.test_predict_commands import make_run
from tests.gui.prediction.conftest import VIDEO_FRAMES, window_run
from tests.gui.window_driver import open_and_wait, wait_frame
from tests.video_factory import write_video

WAIT_MS = 120_000


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    project = Project.create(tmp_path / "proj", name="prediction")
    project.add_video(write_video(tmp_path / "clip.avi", VIDEO_FRAMES, fps=10))
    project.add_class("dark", color="#123456")
    project.save()
    project.close()
    window_run(project.folder, "classify")
    for name, task in (("next", "predict"), ("ae", "anomaly")):
        run_dir = make_run(project.folder, name, task=task)
        record = RunRecord.load(run_dir)
        record.model_path = "best.keras"  # as training records it (scoring reads it)
        record.save(run_dir)
    return project.folder


def open_window(qtbot, make_window, folder: Path):
    window = make_window()
    open_and_wait(qtbot, window, folder)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.player.view, timeout=5000)
    return window


def show_dock(qtbot, window) -> None:
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.prediction.panel.in_sight, timeout=5000)


def test_predicted_frames_follow_the_playhead_while_the_dock_is_in_sight(qtbot, make_window, folder) -> None:
    window = open_window(qtbot, make_window, folder)
    view = window.prediction.prediction_view
    starts: list[int] = []
    view.rollout_started.connect(starts.append)
    window.state.set_model_run("next")
    assert not window.prediction.panel.in_sight and starts == []  # behind the Labels tab: nothing rolls out
    show_dock(qtbot, window)
    qtbot.waitUntil(lambda: view.result is not None, timeout=WAIT_MS)
    assert view.result.start == 0 and view.result.future == view.future and starts == [0]
    assert "next (predict)" in window.prediction.run_label.text()
    assert not window.prediction.segments_view.isVisible()
    window.state.request_seek(5)
    wait_frame(qtbot, window, 5)
    qtbot.waitUntil(lambda: view.result is not None and view.result.start == 5, timeout=WAIT_MS)
    assert starts == [0, 5] and view.truth_frame() is not None and error_dialog.shown == []
    # out of sight (Labels raised): the playhead moves, nothing rolls out; back in sight it catches up
    window.docks["Labels"].raise_()
    qtbot.waitUntil(lambda: not window.prediction.panel.in_sight, timeout=5000)
    window.state.request_seek(8)
    wait_frame(qtbot, window, 8)
    qtbot.wait(2 * view.DEBOUNCE_MS)
    assert starts == [0, 5]
    show_dock(qtbot, window)
    qtbot.waitUntil(lambda: view.result is not None and view.result.start == 8, timeout=WAIT_MS)
    assert starts == [0, 5, 8] and view.worker is None  # no rollout left running


def test_another_task_says_why_and_the_review_shows_no_dialog(qtbot, make_window, folder, answer_dialogs) -> None:
    window = open_window(qtbot, make_window, folder)
    show_dock(qtbot, window)
    view = window.prediction.prediction_view
    window.state.set_model_run("ae")
    assert view.run is None and "No predicted frames" in view.message.text() and "anomaly" in view.message.text()
    window.state.set_model_run("classify")  # the review feature cannot score it: a status line, not a dialog
    assert view.isHidden() and window.prediction.segments_view.isVisibleTo(window.prediction.panel)
    assert window.review.run is None and answer_dialogs() == []
    assert window.actions_by_key["classify_video"].isEnabled()
    assert not window.actions_by_key["export_annotated_video"].isEnabled()


def test_a_rollout_error_ends_in_a_dialog_that_one_click_closes(qtbot, make_window, folder, answer_dialogs) -> None:
    window = open_window(qtbot, make_window, folder)
    window.state.request_seek(VIDEO_FRAMES - 3)  # fewer than 10 given frames left
    wait_frame(qtbot, window, VIDEO_FRAMES - 3)
    window.state.set_model_run("next")
    show_dock(qtbot, window)
    view = window.prediction.prediction_view
    qtbot.waitUntil(lambda: len(answer_dialogs()) == 1, timeout=WAIT_MS)
    assert view.result is None and "failed" in view.message.text()
    assert window.isVisible() and QApplication.activeModalWidget() is None


def test_segments_fill_a_timeline_lane_and_export_an_annotated_video(qtbot, make_window, folder, tmp_path) -> None:
    window = open_window(qtbot, make_window, folder)
    segments = window.prediction.segments_view
    window.state.set_model_run("classify")
    assert SEGMENTS_LANE not in window.state.lanes
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: bool(window.state.lanes.get(SEGMENTS_LANE)), timeout=WAIT_MS)
    assert window.prediction.panel.in_sight  # Classify raised the dock
    lane = window.state.lanes[SEGMENTS_LANE]
    assert [(b.start, b.end, b.color, b.text) for b in lane] == [(b.start, b.end, b.color, b.text)
                                                                  for b in segments.bands]
    assert lane[0].start == 0 and lane[-1].end == VIDEO_FRAMES and len({b.key for b in lane}) == len(lane)
    assert (SEGMENTS_LANE, SEGMENTS_LANE) in window.player.timeline.lanes  # the timeline draws the lane
    # export: the file is asked for through the state, written in a worker
    out = tmp_path / "annotated.mp4"
    window.state.choose_save_file = lambda *a, **k: out  # type: ignore[method-assign]
    with qtbot.waitSignal(segments.export_finished, timeout=WAIT_MS):
        window.actions_by_key["export_annotated_video"].trigger()
    assert out.is_file() and out.stat().st_size > 0 and error_dialog.shown == []
    # another run: the lane empties
    window.state.set_model_run("next")
    assert window.state.lanes[SEGMENTS_LANE] == []
    view = window.prediction.prediction_view  # in sight: the next-frame run rolls out at once
    qtbot.waitUntil(lambda: view.result is not None and window.state.jobs == [], timeout=WAIT_MS)
