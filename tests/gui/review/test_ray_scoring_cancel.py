"""Cancel Score All on Ray mid-job: the workers and the local Ray the job started stop, the finished segments
stay, and the next run resumes from them and completes. Its own module: the job starts its own Ray here (the
other Ray tests share one started by their module)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton

from core.distributed.segments import SegmentCache
from core.inference.anomaly.events_file import read_events
from core.inference.anomaly.project_scoring import cached_video_scores, events_dir
from core.inference.anomaly.score_cache import ScoreCache
from desktop_app.jobs import error_dialog
from tests.gui.modal import click_ok_on_next_box
from tests.gui.review.test_ray_scoring import answer_ray_dialog, open_project

ray = pytest.importorskip("ray", reason='the cluster extra: pip install -e ".[dev,cluster]"')
pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    from tests.core.inference.scoring_project import make_project, save_run

    folder = make_project(tmp_path / "proj", test_frames=22)
    save_run(folder)
    return folder


def segment_files(folder: Path) -> list[Path]:
    cache = SegmentCache(folder).folder
    return sorted(cache.rglob("*.npy")) if cache.is_dir() else []


def test_cancel_stops_the_workers_and_the_local_ray_a_rerun_resumes_and_an_error_keeps_the_work(
        qtbot, make_window, folder, monkeypatch, request) -> None:
    assert not ray.is_initialized()
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)  # real modal boxes, as users get them
    window = make_window()
    open_project(qtbot, window, folder)
    heard, release = threading.Event(), threading.Event()
    request.addfinalizer(release.set)  # a failing wait must not leave the driver held for minutes after

    def gate(_done) -> None:  # the driver holds after the first segment until the test has pressed Cancel
        heard.set()
        release.wait(120)

    window.review.archive_options = {"segment_frames": 5, "on_segment": gate}
    answer_ray_dialog(2)
    window.actions_by_key["score_all_on_ray"].trigger()
    worker = window.review.ray_worker
    assert worker is not None and window.actions_by_key["cancel_scoring"].isEnabled()
    qtbot.waitUntil(heard.is_set, timeout=300000)
    cancel = next(b for b in worker.dialog.findChildren(QPushButton) if b.text() == "Cancel")
    cancel.click()  # the progress dialog's Cancel, as the user presses it
    release.set()
    qtbot.waitUntil(lambda: window.review.ray_worker is None, timeout=120000)
    assert worker.cancelled and not error_dialog.shown, (worker.exception, worker.result)  # a cancel is no error: no dialog
    assert not ray.is_initialized()  # the local Ray the job started is shut down
    kept = segment_files(folder)
    assert kept, "the finished segments stay for the next run"
    project, run = window.state.project, window.review.run
    assert read_events(events_dir(project, run)) is None  # nothing flagged from half the footage

    window.review.archive_options = {"segment_frames": 5}
    answer_ray_dialog(1)  # one worker from here on: each worker's first segment imports TensorFlow
    window.actions_by_key["score_all_on_ray"].trigger()
    qtbot.waitUntil(lambda: window.review.ray_worker is None, timeout=300000)
    assert not error_dialog.shown and not ray.is_initialized()
    done = window.review.last_archive
    assert done is not None and done.segments_reused >= 1  # resumed from the segments kept
    assert all(cached_video_scores(project, run, video_id) is not None for video_id in project.videos)
    assert read_events(events_dir(project, run)) is not None and segment_files(folder) == []

    # an error ends in a real modal box that one click dismisses; the window, the events and the cache stay
    events = read_events(events_dir(project, run))
    test = project.video("test.avi")
    shutil.rmtree(ScoreCache(folder).folder)  # every video to score again, and one of them fails
    test.path.unlink()
    clicked = click_ok_on_next_box()
    answer_ray_dialog(1)
    window.actions_by_key["score_all_on_ray"].trigger()
    qtbot.waitUntil(lambda: window.review.ray_worker is None and bool(clicked), timeout=120000)
    assert "test.avi" in clicked[0], clicked
    assert window.isVisible() and not ray.is_initialized()
    kept_events = read_events(events_dir(project, run))  # the events flagged before are kept
    assert [e.to_dict() for e in kept_events.events] == [e.to_dict() for e in events.events]
