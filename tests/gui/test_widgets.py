"""Widgets on their own: timeline mouse editing, frame cache and read-ahead, typing a frame number."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from desktop_app.player.frame_provider import FrameCache, FrameProvider
from desktop_app.player.timeline import TimelineWidget
from desktop_app.state import LaneBand
from tests.gui.window_driver import make_clip, make_timeline


@pytest.fixture
def timeline(qtbot) -> TimelineWidget:
    return make_timeline(qtbot, 100, [LaneBand(20, 40, "#e69f00", "bike", "s1", "subclip"),  # 10 px per frame
                                      LaneBand(60, 80, "#e5484d", "", "a1", "anomaly")])


def point(timeline: TimelineWidget, frame: float, lane: str | None) -> QPoint:
    x = round(timeline.x_of(frame))
    y = timeline._lane_rect(lane).center().y() if lane else timeline._track_rect().center().y()
    return QPoint(x, round(y))


def test_click_and_drag_on_the_track_scrubs(qtbot, timeline: TimelineWidget) -> None:
    seen: list[int] = []
    timeline.seek_requested.connect(seen.append)
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=point(timeline, 50.5, None))
    assert seen == [50]
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=point(timeline, 10.5, None))
    qtbot.mouseMove(timeline, point(timeline, 30.5, None))
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=point(timeline, 30.5, None))
    assert seen[-1] == 30 and 10 in seen


def test_drag_a_band_moves_it_and_dragging_an_edge_resizes_it(qtbot, timeline: TimelineWidget) -> None:
    edits: list[tuple] = []
    selected: list[tuple] = []
    timeline.band_edited.connect(lambda *a: edits.append(a))
    timeline.band_selected.connect(lambda *a: selected.append(a))
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=point(timeline, 30.5, "subclip"))
    qtbot.mouseMove(timeline, point(timeline, 35.5, "subclip"))
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=point(timeline, 35.5, "subclip"))
    assert selected[0] == ("subclip", "s1")
    assert edits == [("subclip", "s1", 25, 45)]
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=point(timeline, 80, "anomaly"))  # right edge
    qtbot.mouseMove(timeline, point(timeline, 90, "anomaly"))
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=point(timeline, 90, "anomaly"))
    assert edits[-1] == ("anomaly", "a1", 60, 90)
    # a band cannot be dragged past the end of the video
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=point(timeline, 70.5, "anomaly"))
    qtbot.mouseMove(timeline, point(timeline, 99.5, "anomaly"))
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=point(timeline, 99.5, "anomaly"))
    assert edits[-1] == ("anomaly", "a1", 80, 100)


def test_frame_cache_is_lru() -> None:
    cache = FrameCache(2)
    a, b, c = (np.full((2, 2, 3), i, np.uint8) for i in range(3))
    cache.put(0, a)
    cache.put(1, b)
    assert cache.get(0) is a  # 0 is now the most recent
    cache.put(2, c)
    assert 1 not in cache and 0 in cache and 2 in cache and len(cache) == 2


def test_provider_reads_ahead_while_playing(qtbot, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.avi", frames=30)
    provider = FrameProvider(cache_size=20, read_ahead=8)
    with qtbot.waitSignal(provider.opened, timeout=10000):
        provider.open(clip)
    with qtbot.waitSignal(provider.frame_ready, timeout=5000) as blocker:
        assert provider.request(5) is None
    assert blocker.args[0] == 5 and round(float(blocker.args[1].mean()) / 5) == 5
    provider.set_playing(True)
    provider.request(5)
    qtbot.waitUntil(lambda: all(provider.cached(k) is not None for k in range(6, 14)), timeout=5000)
    assert provider.cached(20) is None  # only `read_ahead` frames ahead
    frame = provider.request(9)  # a cached frame comes back at once
    assert frame is not None and round(float(frame.mean()) / 5) == 9
    with qtbot.waitSignal(provider.out_of_range, timeout=5000) as blocker:
        provider.set_playing(False)
        provider.request(45)
    assert blocker.args[0] == 45
    provider.close()


def test_typing_a_frame_number_and_enter_jumps_without_creating_a_subclip(qtbot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from core.project import Project
    from desktop_app.shell.main_window import MainWindow
    from tests.gui.window_driver import Answer

    clip = make_clip(tmp_path / "clip.avi", frames=30)
    project = Project.create(tmp_path / "p")
    project.add_video(clip)
    project.save()
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window.state.ask = lambda *a, **k: Answer.Discard
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    assert window.library.open_project_path(project.folder)
    qtbot.waitUntil(lambda: window.player.shown_index == 0, timeout=10000)
    window.labelling.set_in()  # a span exists: Enter would make a subclip if it reached the shortcut
    spin = window.player.frame_spin
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "17")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.player.shown_index == 17, timeout=5000)
    assert window.state.project.subclips == {}
    window.state.set_lane("Events", [LaneBand(3, 9, "#f5a524", "flagged", "flag0")])
    assert [(b.kind, b.start, b.end) for b in window.player.timeline.bands] == [("event", 3, 9)]
    window.close()


def test_a_thumbnail_arriving_after_the_video_list_is_deleted_is_ignored(qtbot, tmp_path: Path) -> None:
    from shiboken6 import delete

    from core.project import Project
    from desktop_app.jobs import workers
    from desktop_app.library.video_list import VideoList

    project = Project.create(tmp_path / "p", name="p")
    project.add_video(make_clip(tmp_path / "clip.avi"))
    video_list = VideoList()
    video_list.set_project(project)
    pending = workers.active_workers()
    assert pending, "the list should be decoding a thumbnail in the background"
    delete(video_list)  # the window goes away while the worker runs
    qtbot.waitUntil(lambda: not workers.active_workers(), timeout=10_000)  # no exception reaches the event loop


def test_fit_label_elides_instead_of_clipping(qtbot) -> None:
    from desktop_app.common.fit_label import FitLabel

    label = FitLabel("360x240  10 fps")
    qtbot.addWidget(label)
    assert label.minimumSizeHint().width() == 0
    label.resize(label.sizeHint().width() + 10, 20)
    assert label.visible_text() == "360x240  10 fps"
    label.resize(45, 20)
    assert label.visible_text().endswith("…") and len(label.visible_text()) < len(label.text())
