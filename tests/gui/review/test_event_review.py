"""The event review panel driven by its keys: step through events, record verdicts, undo, confirm an
event as an anomaly interval, the error heat map, and errors in a dialog one click dismisses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.inference.anomaly.events import Event
from core.inference.anomaly.regularity import Threshold
from core.project import Project
from desktop_app.jobs import error_dialog
from desktop_app.review import ErrorChart, EventReview
from tests.core.inference.scoring_project import make_project, save_run
from tests.gui.modal import click_ok_on_next_box


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = make_project(tmp_path / "proj")
    save_run(folder)
    return folder


@pytest.fixture
def project(folder: Path):
    opened = Project.open(folder)
    yield opened
    opened.close(discard=True)


def make_review(qtbot, project: Project) -> EventReview:
    review = EventReview()
    qtbot.addWidget(review)
    review.resize(700, 300)
    review.set_project(project, "tiny")
    review.show()
    review.activateWindow()
    qtbot.waitExposed(review)
    qtbot.waitUntil(review.isActiveWindow, timeout=5000)  # shortcuts fire only in the active window
    review.table.setFocus()
    return review


def events_of(project: Project) -> list[Event]:
    test = project.video("test.avi").id
    train = project.video("train0.avi").id
    return [Event(test, 2, 5, 3, 0.4, 0.3), Event(test, 10, 14, 12, 0.9, 0.7), Event(train, 6, 8, 7, 0.5, 0.5)]


def press(qtbot, review: EventReview, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(review.table, key, modifier)


def test_keys_step_through_events_and_their_frames(qtbot, project: Project) -> None:
    review = make_review(qtbot, project)
    test = project.video("test.avi").id
    review.set_events(events_of(project))
    review.show_video(test)
    assert [(e.start, e.end) for e in review.events] == [(2, 5), (10, 14)]
    seeks: list[tuple[str, int]] = []
    review.seek_requested.connect(lambda video, frame: seeks.append((video, frame)))
    press(qtbot, review, Qt.Key.Key_N)
    for _ in range(4):
        press(qtbot, review, Qt.Key.Key_Period)
    press(qtbot, review, Qt.Key.Key_Comma)
    assert [frame for _, frame in seeks] == [2, 3, 4, 3]  # never past the event's last frame
    press(qtbot, review, Qt.Key.Key_N)
    press(qtbot, review, Qt.Key.Key_N)  # stays on the last event
    press(qtbot, review, Qt.Key.Key_P)
    assert seeks[-2:] == [(test, 10), (test, 2)] and review.current_frame == 2
    review.set_whole_project(True)
    assert len(review.events) == 3 and review.current_event.start == 2  # the current event stays current


def test_verdict_keys_record_undoable_verdicts_with_a_note(qtbot, project: Project) -> None:
    review = make_review(qtbot, project)
    review.set_events(events_of(project))
    review.set_whole_project(True)
    review.select_event(1)
    qtbot.keyClicks(review.note, "a shadow")
    review.table.setFocus()
    press(qtbot, review, Qt.Key.Key_R)
    (verdict,) = project.verdicts.values()
    assert (verdict.start, verdict.end, verdict.verdict, verdict.note, verdict.run_id) == (10, 14, "rejected",
                                                                                           "a shadow", "tiny")
    assert review.table.item(1, 4).text() == "rejected" and review.table.item(1, 5).text() == "a shadow"
    press(qtbot, review, Qt.Key.Key_U)
    assert project.verdicts[verdict.id].verdict == "unsure" and project.verdicts[verdict.id].note == "a shadow"
    project.undo()
    assert review.table.item(1, 4).text() == "rejected"
    project.undo()
    assert not project.verdicts and review.table.item(1, 4).text() == ""


def test_the_table_shows_first_and_last_frame_as_the_status_line_reads_them(qtbot, project: Project) -> None:
    review = make_review(qtbot, project)
    review.set_events(events_of(project))
    review.show_video(project.video("test.avi").id)
    review.select_event(1)  # frames [10, 14): 10, 11, 12 and 13
    assert [review.table.item(1, column).text() for column in (1, 2)] == ["10", "13"]
    assert "frame 10 of 10-13" in review.status.text()
    assert "last frame" in review.table.horizontalHeaderItem(2).toolTip()


def test_another_runs_verdict_is_not_shown_on_this_runs_events(qtbot, project: Project) -> None:
    review = make_review(qtbot, project)  # reviews run "tiny"
    test = project.video("test.avi").id
    project.set_verdict(test, 10, 14, "confirmed", note="a cyclist", run_id="another-run")
    review.set_events(events_of(project))
    review.show_video(test)
    assert [review.table.item(1, column).text() for column in (4, 5)] == ["", ""]  # not 'confirmed (overlap)'
    assert review.events[1].verdict is None
    project.set_verdict(test, 9, 13, "rejected", note="a shadow", run_id="tiny")  # this run's, overlapping
    assert [review.table.item(1, column).text() for column in (4, 5)] == ["rejected (overlap)", "a shadow"]


def test_a_confirmed_event_becomes_an_interval_in_one_undoable_action(qtbot, project: Project) -> None:
    review = make_review(qtbot, project)
    review.set_events(events_of(project))
    review.set_whole_project(True)
    intervals = set(project.intervals)
    review.select_event(0)
    press(qtbot, review, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
    (added,) = [project.intervals[i] for i in set(project.intervals) - intervals]
    assert (added.start, added.end, added.source) == (2, 5, "review")
    assert review.table.item(0, 4).text() == "confirmed"
    project.undo()
    assert set(project.intervals) == intervals and not project.verdicts
    assert review.table.item(0, 4).text() == ""


def test_threshold_moves_on_the_chart_re_list_the_videos_events(qtbot, project: Project) -> None:
    review = make_review(qtbot, project)
    chart = ErrorChart()
    qtbot.addWidget(chart)
    test = project.video("test.avi").id
    review.set_events(events_of(project))
    review.set_whole_project(True)
    chart.events_changed.connect(lambda events: review.set_events(events, chart.video_id))
    errors = np.full(22, 0.1, np.float32)
    errors[9:15] = 0.5
    chart.set_scores(errors, Threshold(value=0.3), video_id=test)
    assert [(e.video_id, e.start, e.end) for e in review.events] == [
        (project.video("train0.avi").id, 6, 8, ), (test, 9, 15)]
    chart.set_threshold(0.6)
    assert [e.video_id for e in review.events] == [project.video("train0.avi").id]


def test_the_heat_map_overlay_covers_the_frame_and_follows_the_steps(qtbot, project: Project) -> None:
    review = make_review(qtbot, project)
    review.set_events(events_of(project))
    review.show_video(project.video("test.avi").id)
    press(qtbot, review, Qt.Key.Key_N)
    with qtbot.waitSignal(review.overlay_changed, timeout=30000,
                          check_params_cb=lambda frame, rgba: rgba is not None) as shown:
        press(qtbot, review, Qt.Key.Key_H)
    frame, rgba = shown.args
    assert frame == 2 and rgba.shape == (48, 64, 4) and rgba.dtype == np.uint8 and rgba[..., 3].any()
    with qtbot.waitSignal(review.overlay_changed, timeout=5000) as stepped:
        press(qtbot, review, Qt.Key.Key_Period)
    assert stepped.args[0] == 3 and stepped.args[1] is not None
    with qtbot.waitSignal(review.overlay_changed, timeout=5000) as hidden:
        press(qtbot, review, Qt.Key.Key_H)
    assert hidden.args == [3, None]


def test_a_verdict_on_a_read_only_project_ends_in_a_dialog_one_click_dismisses(qtbot, folder: Path,
                                                                                  monkeypatch) -> None:
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)
    project = Project.open(folder, read_only=True)
    try:
        review = make_review(qtbot, project)
        review.set_events(events_of(project))
        review.show_video(project.video("test.avi").id)
        review.select_event(0)
        clicked = click_ok_on_next_box()
        press(qtbot, review, Qt.Key.Key_C)
        assert len(clicked) == 1 and "read-only" in clicked[0].lower()
        assert QApplication.activeModalWidget() is None and not project.verdicts
    finally:
        project.close()
