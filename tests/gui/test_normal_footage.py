"""Normal footage marked from In/Out like an analyst would: Shift+N, a green band in the Labels lane, moved,
nudged, deleted and undone; the Label menu carries the action."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.labelling.controller import NORMAL_COLOR
from tests.gui.window_driver import key, no_device_listing, open_and_wait, wait_frame


def _normal_bands(window) -> list[tuple[int, int]]:
    return [(b.start, b.end) for b in window.player.timeline.bands if b.kind == "normal"]


def _set_in_out(qtbot, window, first: int, last: int) -> None:
    for frame, k in ((first, Qt.Key.Key_I), (last, Qt.Key.Key_O)):
        window.player.seek(frame)
        wait_frame(qtbot, window, frame)
        key(qtbot, window, k)


def test_mark_in_out_as_normal_footage_move_delete_and_undo(qtbot, make_window, project_dir: Path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    project, vid = window.state.project, window.state.video_id
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)  # no In/Out yet: said, nothing made
    assert not project.normal_spans and "Set the In point (I)" in window.statusBar().currentMessage()
    _set_in_out(qtbot, window, 5, 19)
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)
    (span,) = project.normal_spans_of(vid)
    assert (span.start, span.end) == (5, 20)
    assert window.state.selection == ("normal", span.id) and window.labelling.span() is None
    assert "marked as normal footage" in window.statusBar().currentMessage()
    assert window.isWindowModified()
    # a green band of kind "normal", drawn in the Labels lane beside a subclip (stacked under it where they meet)
    project.add_subclip(vid, 0, 10, label="walk")
    timeline = window.player.timeline
    qtbot.waitUntil(lambda: _normal_bands(window) == [(5, 20)])
    (band,) = [b for b in timeline.bands if b.kind == "normal"]
    (clip_band,) = [b for b in timeline.bands if b.kind == "subclip"]
    assert band.color == NORMAL_COLOR
    assert timeline.lane_rows("subclip") == 2 and timeline.band_row(band) != timeline.band_row(clip_band)
    anomaly_top = timeline._lane_top("anomaly")
    assert timeline._lane_top("subclip") <= timeline.band_rect(band).top() < anomaly_top
    # clicking the band selects it; a drag moves it; Alt+Right nudges it; each is one undoable edit
    window.state.set_selection(None)
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=timeline.band_rect(band).center().toPoint())
    assert window.state.selection == ("normal", span.id)
    timeline.band_edited.emit("normal", span.id, 10, 25)
    assert (project.normal_spans[span.id].start, project.normal_spans[span.id].end) == (10, 25)
    key(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert (project.normal_spans[span.id].start, project.normal_spans[span.id].end) == (11, 26)
    key(qtbot, window, Qt.Key.Key_Delete)
    assert not project.normal_spans and _normal_bands(window) == []
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (project.normal_spans[span.id].start, project.normal_spans[span.id].end) == (11, 26)
    assert _normal_bands(window) == [(11, 26)]
    for _ in range(4):  # the nudge, the drag, the subclip, the mark
        key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not project.normal_spans and timeline.bands == [] and not window.isWindowModified()
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert [(s.start, s.end) for s in project.normal_spans_of(vid)] == [(5, 20)]


def test_the_label_menu_has_the_action_and_overlap_is_said(qtbot, make_window, project_dir: Path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    project, vid = window.state.project, window.state.video_id
    (label_menu,) = [m.menu() for m in window.menuBar().actions() if m.text().replace("&", "") == "Label"]
    (action,) = [a for a in label_menu.actions() if a.objectName() == "action_mark_normal"]
    assert action.text().replace("&", "") == "Mark In–Out as Normal Footage" and action.shortcut().toString() == "Shift+N"
    assert window.label_panel.action_buttons["mark_normal"].isEnabled()
    project.add_interval(vid, 30, 35)
    _set_in_out(qtbot, window, 20, 32)
    action.trigger()
    assert [(s.start, s.end) for s in project.normal_spans_of(vid)] == [(20, 33)]
    assert "overlaps anomaly interval [30, 35)" in window.statusBar().currentMessage()


def test_the_training_panel_says_the_spans_train_and_the_rest_is_scored(qtbot, make_window, project_dir: Path,
                                                                         monkeypatch) -> None:
    window = make_window()
    no_device_listing(monkeypatch, window)
    open_and_wait(qtbot, window, project_dir)
    form = window.training.panel.form
    form.task.setCurrentText("anomaly")
    assert form.val_fraction.value() == pytest.approx(0.2)
    assert form.videos.item(0).text() == "levels.avi  (train, 20% of its time held out)"
    _set_in_out(qtbot, window, 0, 29)
    key(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)
    assert form.videos.item(0).text() == ("levels.avi  (test: its normal spans train, 20% of their time held out, "
                                          "the rest is scored)")
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert form.videos.item(0).text() == "levels.avi  (train, 20% of its time held out)"
