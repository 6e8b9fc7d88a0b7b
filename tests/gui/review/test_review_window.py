"""Review in the main window: Score fills the chart live, the threshold re-flags events and the Events lane,
the event keys step and judge, Undo takes verdicts back, a confirmed event becomes an interval, the heat map
is drawn on the player's frame, and the demo's Score finds the shipped model and flags the cyclist."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.inference.anomaly.events_file import read_events
from core.inference.anomaly.project_scoring import score_project
from core.project import Project
from desktop_app.jobs import error_dialog
from desktop_app.review import REVIEW_KEYS
from tests.core.inference.scoring_project import make_project, save_run
from tests.gui.modal import click_ok_on_next_box
from tests.gui.review.gated_loader import GatedLoader
from tests.gui.window_driver import key, wait_frame

TEST_FRAMES = 22


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = make_project(tmp_path / "proj", test_frames=TEST_FRAMES)
    save_run(folder)
    return folder


def open_test_video(qtbot, window, folder: Path) -> str:
    assert window.library.open_project_path(folder)
    assert window.state.model_run == "tiny"  # the project's only run that scores is chosen
    test = window.state.project.video("test.avi").id
    window.state.set_video(test)
    qtbot.waitUntil(lambda: window.player.has_video and window.state.video_id == test, timeout=10000)
    return test


def scored_window(qtbot, make_window, folder: Path):
    window = make_window()
    open_test_video(qtbot, window, folder)
    window.actions_by_key["score_video"].trigger()
    qtbot.waitUntil(lambda: not window.review.scoring and window.review.chart.frames == TEST_FRAMES, timeout=60000)
    return window


def lane(window) -> list[tuple[int, int, str]]:
    return [(b.start, b.end, b.text) for b in window.state.lanes.get("Events", [])]


def threshold_with_events(chart, count: int) -> float:
    """A threshold at which the chart flags at least ``count`` events."""
    for value in sorted(set(np.round(chart.smoothed(), 12)), reverse=True):
        chart.set_threshold(float(value) * 0.999999)
        if len(chart.events) >= count:
            return float(value)
    raise AssertionError(f"no threshold flags {count} events")


def test_score_fills_the_chart_while_scoring_runs_and_the_chart_follows_the_player(qtbot, make_window, folder) -> None:
    project = Project.open(folder, read_only=True)
    score_project(project, "tiny", [v.id for v in project.videos.values() if v.split == "train"])  # calibration
    project.close()
    window = make_window()
    test = open_test_video(qtbot, window, folder)
    review, chart = window.review, window.review.chart
    loader = GatedLoader()
    review.scoring_options = {"batch_size": 1, "load_model": loader}
    window.actions_by_key["score_video"].trigger()
    qtbot.waitUntil(lambda: chart.frames > 0, timeout=30000)
    assert review.scoring and 0 < chart.frames < TEST_FRAMES  # the chart grows while scoring runs
    assert not window.actions_by_key["score_video"].isEnabled() and window.actions_by_key["cancel_scoring"].isEnabled()
    assert chart.threshold is not None and chart.video_id == test
    loader.gate.set()
    qtbot.waitUntil(lambda: not review.scoring, timeout=60000)
    assert chart.frames == TEST_FRAMES and chart.auc is not None  # ground truth 8-14 is shaded and measured
    window.player.seek(7)
    wait_frame(qtbot, window, 7)
    assert chart.position == 7  # the cursor follows playback
    chart.seek_requested.emit(12)  # what a click on the chart emits
    wait_frame(qtbot, window, 12)

    # another video, then back: the cached scores are shown at once, without a job
    window.state.set_video(window.state.project.video("train0.avi").id)
    assert chart.frames == 18 and chart.video_id != test
    window.state.set_video(test)
    assert chart.frames == TEST_FRAMES and not review.scoring and loader.loads == 1


def test_moving_the_threshold_reflags_events_in_the_panel_and_the_events_lane(qtbot, make_window, folder) -> None:
    window = scored_window(qtbot, make_window, folder)
    chart, panel = window.review.chart, window.review.review
    low = float(chart.smoothed().min())
    chart.set_threshold(low - 1.0)  # every frame above it: one event over the whole video
    assert [(e.start, e.end) for e in chart.events] == [(0, TEST_FRAMES)]
    assert [(e.start, e.end) for e in panel.events] == [(0, TEST_FRAMES)]
    assert lane(window) == [(0, TEST_FRAMES, "flagged")]
    assert [(b.kind, b.start) for b in window.player.timeline.bands if b.kind == "event"] == [("event", 0)]
    chart.set_threshold(float(chart.smoothed().max()) + 1.0)
    assert chart.events == [] and panel.events == [] and lane(window) == []
    threshold_with_events(chart, 2)
    assert len(panel.events) == len(chart.events) >= 2
    assert lane(window) == [(e.start, e.end, "flagged") for e in chart.events]


def test_keys_step_through_events_record_verdicts_undo_and_confirm_as_interval(qtbot, make_window, folder) -> None:
    window = scored_window(qtbot, make_window, folder)
    chart, panel, project = window.review.chart, window.review.review, window.state.project
    threshold_with_events(chart, 2)
    events = chart.events
    window.state.request_player_focus()
    key(qtbot, window, Qt.Key.Key_N)
    assert panel.current_event.start == events[0].start
    wait_frame(qtbot, window, events[0].start)
    key(qtbot, window, Qt.Key.Key_N)
    wait_frame(qtbot, window, events[1].start)
    key(qtbot, window, Qt.Key.Key_P)
    wait_frame(qtbot, window, events[0].start)
    key(qtbot, window, Qt.Key.Key_Period)
    expected = min(events[0].start + 1, events[0].end - 1)
    wait_frame(qtbot, window, expected)
    key(qtbot, window, Qt.Key.Key_Comma)
    wait_frame(qtbot, window, events[0].start)

    key(qtbot, window, Qt.Key.Key_C)
    verdicts = list(project.verdicts.values())
    assert [(v.start, v.end, v.verdict) for v in verdicts] == [(events[0].start, events[0].end, "confirmed")]
    assert (events[0].start, events[0].end, "confirmed") in lane(window)
    assert panel.events[0].verdict.verdict == "confirmed"
    key(qtbot, window, Qt.Key.Key_R)
    assert [v.verdict for v in project.verdicts.values()] == ["rejected"]
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Edit > Undo
    assert [v.verdict for v in project.verdicts.values()] == ["confirmed"]
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert project.verdicts == {} and lane(window)[0][2] == "flagged" and panel.events[0].verdict is None

    intervals = {(i.start, i.end) for i in project.intervals.values()}
    key(qtbot, window, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
    assert {(i.start, i.end) for i in project.intervals.values()} == intervals | {(events[0].start, events[0].end)}
    assert [v.verdict for v in project.verdicts.values()] == ["confirmed"]
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo takes both back
    assert {(i.start, i.end) for i in project.intervals.values()} == intervals and project.verdicts == {}


def test_the_heat_map_of_the_current_event_is_drawn_on_the_players_frame(qtbot, make_window, folder) -> None:
    window = scored_window(qtbot, make_window, folder)
    threshold_with_events(window.review.chart, 1)
    window.state.request_player_focus()
    key(qtbot, window, Qt.Key.Key_N)
    event = window.review.review.current_event
    wait_frame(qtbot, window, event.start)
    assert window.player.view.overlay is None
    key(qtbot, window, Qt.Key.Key_H)
    qtbot.waitUntil(lambda: window.player.view.overlay is not None, timeout=30000)
    overlay = window.state.frame_overlay
    assert overlay.dtype == np.uint8 and overlay.shape == (48, 64, 4)  # the frame's size, RGBA
    key(qtbot, window, Qt.Key.Key_H)
    assert window.player.view.overlay is None and window.state.frame_overlay is None


def test_score_all_videos_lists_the_events_of_the_whole_project(qtbot, make_window, folder) -> None:
    window = make_window()
    test = open_test_video(qtbot, window, folder)
    window.review.scoring_options = {"percentile": 50.0}  # a low threshold: events in every video
    window.actions_by_key["score_all"].trigger()
    qtbot.waitUntil(lambda: window.review.chart.frames == TEST_FRAMES, timeout=60000)  # the cached scores
    panel = window.review.review
    assert panel.scope.currentIndex() == 1  # whole project
    videos = {e.video_id for e in panel.events}
    assert len(videos) == 3 and test in videos
    assert lane(window) == [(e.start, e.end, "flagged") for e in window.review.chart.events]


def test_the_event_keys_are_the_panels_keys_and_listed_as_window_actions(make_window) -> None:
    window = make_window()
    assert set(REVIEW_KEYS) == set(window.review.review.event_handlers())
    for action, sequence in REVIEW_KEYS.items():
        assert window.actions_by_key[action].shortcut().toString() == sequence
        assert not window.review.review.shortcuts[action].isEnabled()  # one owner per key
    note = window.review.review.note.placeholderText()
    assert all(REVIEW_KEYS[a] in note for a in ("confirm_event", "reject_event", "unsure_event"))


def test_score_asks_for_a_run_and_an_unusable_one_ends_in_a_dialog_one_click_dismisses(
        qtbot, make_window, folder, monkeypatch) -> None:
    save_run(folder, "untrained", with_model=False)
    save_run(folder, "second")
    window = make_window()
    assert window.library.open_project_path(folder)
    assert window.state.model_run is None  # two runs score: none is chosen for the analyst
    window.state.set_video(window.state.project.video("test.avi").id)
    asked: list[list[str]] = []

    def choose(title, label, items, current=0):
        asked.append(items)
        return next(item for item in items if item.startswith("second"))

    window.state.choose_item = choose
    window.actions_by_key["score_video"].trigger()
    assert [item.split(" ")[0] for item in asked[0]] == ["second", "tiny", "ped2-future-frame"]  # not "untrained"
    assert window.state.model_run == "second"
    qtbot.waitUntil(lambda: not window.review.scoring and window.review.chart.frames == TEST_FRAMES, timeout=60000)

    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)  # a real modal box, as users get it
    clicked = click_ok_on_next_box()
    window.state.set_model_run("untrained")
    assert len(clicked) == 1 and "has no model yet" in clicked[0]
    assert window.review.run is None and window.isVisible()


@pytest.mark.slow
def test_the_demos_score_finds_the_shipped_model_and_flags_the_cyclist(qtbot, make_window, tmp_path, monkeypatch,
                                                                      capsys) -> None:
    from desktop_app.library import demo

    monkeypatch.setattr(demo, "user_demo_dir", lambda: tmp_path / "user")
    window = make_window()
    assert window.library.open_demo()
    assert window.state.model_run == "ped2-future-frame"
    # the shipped model scores relative to its error level, and the chart's axis says so
    assert window.review.chart.plot.getAxis("left").labelText == "error (x normal)"
    test01 = next(v.id for v in window.state.project.videos.values() if v.name == "ped2_test01")
    window.state.set_video(test01)
    qtbot.waitUntil(lambda: window.player.has_video and window.state.video_id == test01, timeout=10000)
    first_event: list[float] = []
    window.review.chart.events_changed.connect(
        lambda events: first_event.append(time.perf_counter()) if events and not first_event else None)
    started = time.perf_counter()
    window.actions_by_key["score_video"].trigger()
    qtbot.waitUntil(lambda: not window.review.scoring, timeout=120000)
    assert window.review.chart.frames == 180 and first_event
    cyclist = [e for e in window.review.review.events if e.start < 180 and e.end > 60]  # ground truth [60, 180)
    assert cyclist, "no event flagged on the cyclist"
    with capsys.disabled():
        print(f"\ndemo: Score to first event {first_event[0] - started:.1f} s, whole video "
              f"{time.perf_counter() - started:.1f} s, {len(window.review.review.events)} events")
    window.state.request_player_focus()
    key(qtbot, window, Qt.Key.Key_N)
    assert window.review.review.current_event is not None


def test_the_flagging_bar_follows_the_line_keeps_it_for_the_run_and_a_new_window_adopts_it(
        qtbot, make_window, folder) -> None:
    window = scored_window(qtbot, make_window, folder)
    review, chart, bar = window.review, window.review.chart, window.review.flagging_bar
    calibrated = chart.current_threshold
    assert calibrated.kind == "percentile" and bar.threshold_box.value() == pytest.approx(calibrated.value, abs=1e-7)
    assert "kept" in bar.origin.text() and not bar.keep_button.isEnabled()
    # the line moves the box, and a typed value moves the line
    value = threshold_with_events(chart, 2)
    assert bar.threshold_box.value() == pytest.approx(chart.threshold, abs=1e-7) and "not kept" in bar.origin.text()
    low = float(chart.smoothed().min()) - 1.0
    bar.threshold_box.setValue(max(low, 0.0))
    assert chart.threshold == pytest.approx(max(low, 0.0), abs=1e-7)
    assert chart.current_threshold.kind == "manual" and "set by hand" in bar.origin.text()
    bar.threshold_box.setValue(value * 0.999999)
    # min run and merge gap re-flag at once
    flagged = [(e.start, e.end) for e in chart.events]
    bar.merge_gap_box.setValue(TEST_FRAMES)
    assert [(e.start, e.end) for e in chart.events] == [(flagged[0][0], flagged[-1][1])]
    assert lane(window) == [(flagged[0][0], flagged[-1][1], "flagged")]
    # Revert goes back to what the run stores; Keep stores what the bar shows
    bar.revert_button.click()
    assert chart.threshold == pytest.approx(calibrated.value) and bar.merge_gap == 0 and "kept" in bar.origin.text()
    bar.threshold_box.setValue(value * 0.999999)
    bar.merge_gap_box.setValue(TEST_FRAMES)
    bar.keep_button.click()
    qtbot.waitUntil(lambda: not bar.keep_button.isEnabled(), timeout=10000)
    assert "set by hand · kept" in bar.origin.text()
    assert window.minimumSizeHint().width() <= 1280 and bar.minimumSizeHint().width() <= 700  # fits a laptop
    assert review.scoring_options["merge_gap"] == TEST_FRAMES and review.scoring_options["threshold"].kind == "manual"
    stored = read_events(folder / "runs" / "tiny")
    assert stored.threshold.kind == "manual" and stored.threshold.value == pytest.approx(value * 0.999999)
    assert stored.flagging["merge_gap"] == TEST_FRAMES
    test_events = [(e.start, e.end) for e in stored.events if e.video_id == chart.video_id]
    assert test_events == [(flagged[0][0], flagged[-1][1])]
    # the other videos scored (the train-split ones, for the calibration) were flagged alike
    assert {e.video_id for e in stored.events} <= set(window.state.project.videos)
    window.close()

    again = make_window()
    open_test_video(qtbot, again, folder)
    chart2, bar2 = again.review.chart, again.review.flagging_bar
    qtbot.waitUntil(lambda: chart2.frames == TEST_FRAMES, timeout=10000)  # from the cache, at once
    assert chart2.threshold == pytest.approx(value * 0.999999) and chart2.merge_gap == TEST_FRAMES
    assert [(e.start, e.end) for e in chart2.events] == test_events and "set by hand · kept" in bar2.origin.text()


def test_scores_events_and_the_annotated_video_export_as_the_chart_flags(qtbot, make_window, folder, tmp_path,
                                                                        monkeypatch) -> None:
    import csv

    from PySide6.QtWidgets import QMessageBox

    from core.video.open import open_video

    window = scored_window(qtbot, make_window, folder)
    chart, state = window.review.chart, window.state
    threshold_with_events(chart, 2)
    flagged = [(e.start, e.end) for e in chart.events]
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(state, "choose_folder", lambda title: out)
    window.actions_by_key["export_scores"].trigger()
    qtbot.waitUntil(lambda: (out / "test.events.csv").exists() and (out / "test.scores.json").exists(), timeout=20000)
    with open(out / "test.events.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["start_frame"]), int(r["end_frame"])) for r in rows] == flagged
    with open(out / "test.scores.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == TEST_FRAMES
    # files already there: the analyst is asked, and "No" leaves them
    before = (out / "test.events.csv").read_bytes()
    asked: list[str] = []
    monkeypatch.setattr(state, "ask", lambda title, text, buttons, default: asked.append(text) or
                        QMessageBox.StandardButton.No)
    chart.set_threshold(float(chart.smoothed().max()) + 1.0)  # no events now
    window.actions_by_key["export_scores"].trigger()
    assert len(asked) == 1 and "test.events.csv" in asked[0] and (out / "test.events.csv").read_bytes() == before

    monkeypatch.setattr(state, "choose_save_file", lambda title, filters: tmp_path / "annotated")
    window.actions_by_key["export_anomaly_video"].trigger()
    qtbot.waitUntil(lambda: "Wrote" in window.statusBar().currentMessage() and "annotated.mp4"
                    in window.statusBar().currentMessage(), timeout=60000)
    with open_video(tmp_path / "annotated.mp4") as source:
        assert sum(1 for _ in source.iter_frames()) == TEST_FRAMES


def test_exports_before_scoring_say_what_to_do(qtbot, make_window, folder, monkeypatch) -> None:
    window = make_window()
    open_test_video(qtbot, window, folder)
    monkeypatch.setattr(window.state, "choose_folder", lambda title: pytest.fail("asked for a folder"))
    window.actions_by_key["export_scores"].trigger()
    assert "Score the whole video first" in window.statusBar().currentMessage()
