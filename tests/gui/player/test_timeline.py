"""The timeline: overlapping bands stacked in sub-rows, every lane of the state drawn, zoom and scrolling."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from core.project import Project
from desktop_app.player.timeline import TimelineWidget, stack_rows
from desktop_app.state import LaneBand
from tests.gui.window_driver import key, make_timeline, open_and_wait, wait_frame
from tests.video_factory import write_video


@pytest.fixture
def timeline(qtbot) -> TimelineWidget:
    return make_timeline(qtbot, 10_000)


def wheel(widget, pos: QPointF, delta: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """One notch of the mouse wheel over ``pos`` (120 = away from the user)."""
    event = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(), QPoint(0, delta),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def band_point(timeline: TimelineWidget, band: LaneBand, frame: float) -> QPoint:
    return QPoint(round(timeline.x_of(frame)), round(timeline.band_rect(band).center().y()))


def test_stack_rows_puts_overlapping_bands_in_separate_rows() -> None:
    a, b, c, d = (LaneBand(s, e, "#fff", "", k, "subclip") for k, s, e in
                  (("a", 0, 10), ("b", 5, 15), ("c", 10, 20), ("d", 8, 12)))
    rows, count = stack_rows([a, b, c, d])
    assert count == 3
    assert rows[("subclip", "a")] == 0 and rows[("subclip", "b")] == 1 and rows[("subclip", "d")] == 2
    assert rows[("subclip", "c")] == 0  # a has ended at 10: c reuses its row
    assert stack_rows([]) == ({}, 1)


def test_overlapping_bands_stack_and_each_can_be_clicked(qtbot, timeline: TimelineWidget) -> None:
    one_row = timeline.sizeHint().height()
    first = LaneBand(0, 6000, "#e69f00", "bike", "s1", "subclip")
    second = LaneBand(3000, 9000, "#56b4e9", "walk", "s2", "subclip")
    timeline.set_bands([first, second, LaneBand(100, 200, "#e5484d", "", "a1", "anomaly")])
    assert timeline.lane_rows("subclip") == 2 and timeline.lane_rows("anomaly") == 1
    assert timeline.sizeHint().height() == one_row + TimelineWidget.LANE_H  # the lane grew one row
    assert timeline.minimumHeight() == timeline.sizeHint().height()
    r1, r2 = timeline.band_rect(first), timeline.band_rect(second)
    assert not r1.intersects(r2)  # they no longer paint over each other
    assert timeline._lane_rect("anomaly").top() >= r2.bottom()  # the next lane moved down
    selected: list[tuple] = []
    timeline.band_selected.connect(lambda *a: selected.append(a))
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=band_point(timeline, first, 4000))
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=band_point(timeline, second, 4000))
    assert selected == [("subclip", "s1"), ("subclip", "s2")]


def test_ctrl_wheel_zooms_around_the_mouse_and_the_wheel_scrolls(qtbot, timeline: TimelineWidget) -> None:
    assert timeline.zoom == 1 and not timeline.is_zoomed
    x = timeline.x_of(7000)
    for _ in range(30):  # zoom all the way in, the mouse over frame 7000
        wheel(timeline, QPointF(x, timeline._track_rect().center().y()), 120, Qt.KeyboardModifier.ControlModifier)
    assert timeline.zoom == pytest.approx(timeline.max_zoom())
    assert timeline.frame_at(x) == 7000  # the frame under the mouse stayed under it
    assert timeline.x_of(7001) - timeline.x_of(7000) == pytest.approx(24.0)  # frame-accurate clicking
    seen: list[int] = []
    timeline.seek_requested.connect(seen.append)
    for frame in (6999, 7000, 7001, 7002):
        qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton,
                         pos=QPoint(round(timeline.x_of(frame + 0.5)), round(timeline._track_rect().center().y())))
    assert seen == [6999, 7000, 7001, 7002]
    start = timeline.view_start
    wheel(timeline, QPointF(x, 10), -120)  # plain wheel: scroll later
    assert timeline.view_start > start and timeline.zoom == pytest.approx(timeline.max_zoom())


def test_the_zoomed_view_follows_the_playhead(timeline: TimelineWidget) -> None:
    timeline.set_zoom(100, anchor=0)
    assert timeline.view_start == 0 and timeline.view_frames == pytest.approx(100)
    timeline.set_position(50)
    assert timeline.view_start == 0  # still in sight: no scroll
    timeline.set_position(5000)
    assert timeline.view_start <= 5000 < timeline.view_start + timeline.view_frames


@pytest.fixture
def long_project(tmp_path):
    """A project with one 600-frame 32x32 clip (long enough to zoom in many times)."""
    project = Project.create(tmp_path / "long", name="Long")
    project.add_video(write_video(tmp_path / "long.avi", 600, width=40, height=32))
    project.save()
    project.close()
    return project.folder


def test_zoom_keys_slider_and_scroll_bar_in_the_window(qtbot, make_window, long_project) -> None:
    window = make_window()
    open_and_wait(qtbot, window, long_project)
    timeline, bar = window.player.timeline, window.player.zoom_bar
    key(qtbot, window, Qt.Key.Key_Plus)
    assert timeline.zoom == pytest.approx(2.0)
    key(qtbot, window, Qt.Key.Key_Equal)
    assert timeline.zoom == pytest.approx(4.0)
    assert bar.scroll.isEnabled() and bar.slider.value() > 0
    key(qtbot, window, Qt.Key.Key_Minus)
    assert timeline.zoom == pytest.approx(2.0)
    bar.scroll.setValue(bar.scroll.maximum())  # scrolled to the end
    assert timeline.view_start + timeline.view_frames == pytest.approx(timeline.frame_count)
    bar.slider.setValue(0)
    assert timeline.zoom == pytest.approx(1.0) and not bar.scroll.isEnabled()
    bar.slider.setValue(bar.slider.maximum())
    assert timeline.zoom == pytest.approx(timeline.max_zoom())
    key(qtbot, window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert timeline.zoom == pytest.approx(1.0)
    # zooming centres on the playhead when the mouse is not over the timeline
    window.state.request_seek(500)
    wait_frame(qtbot, window, 500)
    key(qtbot, window, Qt.Key.Key_Plus)
    assert timeline.view_start <= 500 < timeline.view_start + timeline.view_frames
    assert timeline.zoom == pytest.approx(2.0)


def test_every_lane_of_the_state_is_drawn_with_its_overlaps_stacked(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    timeline = window.player.timeline
    state = window.state
    state.set_lane("Classes", [LaneBand(0, 20, "#56b4e9", "walk", "w1"), LaneBand(10, 30, "#e69f00", "bike", "b1")])
    assert [title for title, _kind in timeline.lanes] == ["Labels", "Anomalies", "Events", "Classes"]
    assert timeline.lane_rows("Classes") == 2
    state.project.add_subclip(state.video_id, 0, 20, label="walk")
    state.project.add_subclip(state.video_id, 5, 25, label="bike")
    qtbot.waitUntil(lambda: timeline.lane_rows("subclip") == 2, timeout=5000)
    classes = [b for b in timeline.bands if b.kind == "Classes"]
    assert {b.key for b in classes} == {"w1", "b1"}
    assert timeline.band_rect(classes[0]).top() > timeline._track_rect().top() - 100  # laid out, inside the widget
    assert timeline._track_rect().bottom() <= timeline.height()
    # a band of another feature's lane is read-only: clicking it does not select a project entity
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton,
                     pos=QPoint(round(timeline.x_of(5)), round(timeline.band_rect(classes[0]).center().y())))
    assert state.selection is None
