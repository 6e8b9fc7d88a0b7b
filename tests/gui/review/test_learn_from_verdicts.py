"""Review > Learn from Rejected Events: the rejected false alarms refit the run's threshold in a job, and the
chart, the events panel and the Events lane show the events flagged anew; without rejected events, one dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from core.inference.anomaly.events_file import read_events
from core.runs import RunRecord
from desktop_app.jobs import error_dialog
from tests.core.inference.scoring_project import make_project, save_run
from tests.gui.modal import click_ok_on_next_box
from tests.gui.review.test_review_window import TEST_FRAMES, lane, open_test_video
from tests.gui.window_driver import key, wait_frame


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    import keras

    folder = make_project(tmp_path / "proj", test_frames=TEST_FRAMES)
    # the untrained model's weights decide the events: seeded, they are the same every time (unseeded, the first
    # event was now and then one frame at frame 0, whose rejection leaves the refit nothing new to learn)
    keras.utils.set_random_seed(0)
    save_run(folder)
    return folder


def scored_with_events(qtbot, make_window, folder: Path):
    """A window showing ``test.avi`` scored at a low calibrated threshold (its 50th percentile): events flagged."""
    window = make_window()
    open_test_video(qtbot, window, folder)
    window.review.scoring_options = {"percentile": 50.0}
    window.actions_by_key["score_video"].trigger()
    qtbot.waitUntil(lambda: not window.review.scoring and window.review.chart.frames == TEST_FRAMES, timeout=60000)
    assert window.review.chart.events
    return window


def test_rejected_events_refit_the_threshold_and_the_views_show_the_events_flagged_anew(
        qtbot, make_window, folder: Path) -> None:
    window = scored_with_events(qtbot, make_window, folder)
    chart, panel, project = window.review.chart, window.review.review, window.state.project
    before = read_events(folder / "runs" / "tiny")
    first = chart.events[0]
    window.state.request_player_focus()
    key(qtbot, window, Qt.Key.Key_N)
    wait_frame(qtbot, window, first.start)
    key(qtbot, window, Qt.Key.Key_R)  # Reject Event
    assert [(v.start, v.end, v.verdict) for v in project.verdicts.values()] == [(first.start, first.end, "rejected")]

    action = window.actions_by_key["learn_from_rejected"]
    assert action.isEnabled() and action.text().replace("&", "") == "Learn from Rejected Events"
    review_menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Review")
    assert action in review_menu.actions()
    action.trigger()
    controller = window.training
    qtbot.waitUntil(lambda: controller.refit_worker is not None and controller.refit_worker.is_done, timeout=60000)
    qtbot.waitUntil(lambda: "learned from 1 rejected event" in window.statusBar().currentMessage(), timeout=10000)
    after = read_events(folder / "runs" / "tiny")
    print("DEBUG", before.threshold, [(e.start, e.end) for e in before.events], after.threshold, RunRecord.load(folder / "runs" / "tiny").data["verdict_refits"])
    assert after.threshold.value > before.threshold.value  # the rejected frames now calibrate it too
    entry = RunRecord.load(folder / "runs" / "tiny").data["verdict_refits"][-1]
    assert entry["rejected_events"] == 1 and entry["threshold_after"] == after.threshold.value
    # the views show what the refit stored: the chart's threshold and events, the panel, the lane
    qtbot.waitUntil(lambda: chart.threshold == pytest.approx(after.threshold.value), timeout=10000)
    test = project.video("test.avi").id
    stored = [(e.start, e.end) for e in after.events if e.video_id == test]
    assert [(e.start, e.end) for e in chart.events] == stored
    assert [(e.start, e.end) for e in panel.events] == stored  # the panel lists the video's events
    flagged = [(start, end) for start, end, text in lane(window) if text == "flagged"]
    assert set(flagged) <= set(stored) and (first.start, first.end, "rejected") in lane(window)
    assert action.isEnabled()


def test_without_rejected_events_the_action_ends_in_a_dialog_one_click_dismisses(
        qtbot, make_window, folder: Path, monkeypatch) -> None:
    window = scored_with_events(qtbot, make_window, folder)
    before = (folder / "runs" / "tiny" / "events.json").read_bytes()
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)  # a real modal box, as users get it
    clicked = click_ok_on_next_box()
    window.actions_by_key["learn_from_rejected"].trigger()
    qtbot.waitUntil(lambda: len(clicked) == 1, timeout=60000)
    assert "no events of run 'tiny' are rejected" in clicked[0]
    assert (folder / "runs" / "tiny" / "events.json").read_bytes() == before and window.isVisible()


def test_learning_waits_for_scoring_that_is_running(qtbot, make_window, folder: Path) -> None:
    window = scored_with_events(qtbot, make_window, folder)
    assert not window.training.scoring_now()  # the window asks the review feature
    window.review.score_video()
    assert window.training.scoring_now() == window.review.scoring
    window.training.scoring_now = lambda: True  # held running for as long as the check takes
    window.actions_by_key["learn_from_rejected"].trigger()
    assert window.training.refit_worker is None  # no refit started: it would race the scoring's events.json
    assert "Scoring is running" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.review.scoring, timeout=60000)
