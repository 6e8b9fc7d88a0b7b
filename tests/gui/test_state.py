"""The shared app state: features talk through it, and the window wires it to its widgets."""

from __future__ import annotations

import threading

import pytest

from core.jobs import check_cancelled
from desktop_app.common.actions import build_actions, merge_actions
from desktop_app.jobs import Worker
from desktop_app.state import LaneBand
from tests.gui.window_driver import open_and_wait, wait_frame


def test_lanes_seek_selection_and_status_go_through_the_state(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    state = window.state
    positions: list[int] = []
    state.position_changed.connect(positions.append)
    state.request_seek(7)
    wait_frame(qtbot, window, 7)
    assert state.position == 7 and positions[-1] == 7
    assert state.frame_count == window.player.frame_count > 0 and state.has_video
    state.set_lane("Events", [LaneBand(3, 9, "#f5a524", "score 0.91", "e1")])
    events = [b for b in window.player.timeline.bands if b.kind == "event"]
    assert [(b.start, b.end, b.text, b.key) for b in events] == [(3, 9, "score 0.91", "e1")]
    state.set_lane("Some later lane", [LaneBand(0, 2, "#ffffff")])  # drawn below the three lanes
    assert state.lanes["Some later lane"] and len(window.player.timeline.bands) == 2
    assert window.player.timeline.lanes[-1] == ("Some later lane", "Some later lane")
    # the labelling feature fills the Labels lane from the project; a selection reaches the timeline
    clip = state.project.add_subclip(state.video_id, 10, 20, label="walk")
    assert ("subclip", clip.id, 10, 20) in [(b.kind, b.key, b.start, b.end) for b in window.player.timeline.bands]
    state.set_selection(("subclip", clip.id))
    assert window.player.timeline.selected == ("subclip", clip.id)
    assert window.label_panel.subclips.selected_id() == clip.id
    state.show_status("hello from a feature", 5000)
    assert window.statusBar().currentMessage() == "hello from a feature"
    runs: list[str] = []
    state.model_run_changed.connect(runs.append)
    state.set_model_run("run-1")
    assert state.model_run == "run-1" and runs == ["run-1"]


def test_a_new_video_clears_the_selection_and_the_span(qtbot, make_window, project_dir, tmp_path) -> None:
    from tests.gui.window_driver import make_clip

    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    state = window.state
    window.library.add_video_paths([make_clip(tmp_path / "second.avi", frames=6)])
    qtbot.waitUntil(lambda: len(state.project.videos) == 2 and not state.jobs, timeout=10000)
    first = next(v for v in state.project.videos.values() if v.name != "second.avi")
    window.library.select_video(first.id)
    clip = state.project.add_subclip(first.id, 2, 4, label="walk")
    state.set_selection(("subclip", clip.id))
    window.labelling.set_in()
    assert state.span[0] is not None
    other = next(v for v in state.project.videos.values() if v.name == "second.avi")
    window.library.select_video(other.id)
    assert state.video_id == other.id and state.selection is None and state.span == (None, None)
    assert window.player.timeline.selected is None and window.player.timeline.in_point is None


def test_closing_the_window_cancels_the_jobs_it_tracks(qtbot, make_window) -> None:
    window = make_window()
    started = threading.Event()

    def forever(progress=None, cancel=None):
        started.set()
        while True:
            check_cancelled(cancel, "forever")
            cancel.wait(0.01)

    worker = window.state.track(Worker(forever).start())
    assert started.wait(60) and window.state.jobs == [worker]
    window.close()
    qtbot.waitUntil(lambda: worker.is_done, timeout=5000)
    assert worker.cancelled and window.state.jobs == []


def test_every_action_has_exactly_one_owning_feature(qtbot) -> None:
    from PySide6.QtWidgets import QWidget

    host = QWidget()
    qtbot.addWidget(host)
    mine = build_actions(host, {"undo": lambda: None})
    with pytest.raises(KeyError, match="no feature registers"):
        merge_actions(mine)
    with pytest.raises(KeyError, match="registered by two features"):
        merge_actions(mine, build_actions(host, {"undo": lambda: None}))
    with pytest.raises(KeyError, match="no action spec"):
        build_actions(host, {"not_an_action": lambda: None})
