"""Score All Videos on Ray workers from the app: the scores and events of a local scoring, the choice
remembered, and the action disabled with the install command when Ray is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from core.distributed.ray_import import INSTALL
from core.inference.anomaly.events_file import read_events
from core.inference.anomaly.project_scoring import cached_video_scores, events_dir, score_project
from core.project import Project
from desktop_app.jobs import error_dialog
from desktop_app.review import controller as review_controller
from desktop_app.review.ray_scoring import RayChoice, RayScoringDialog, remember, remembered
from tests.core.inference.scoring_project import make_project, save_run

TEST_FRAMES = 22


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray of 2 CPUs for the module: the job uses it and leaves it running (as tests/core/distributed)."""
    ray = pytest.importorskip("ray", reason='the cluster extra: pip install -e ".[dev,cluster]"')
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)  # never a cluster found
    yield ray
    ray.shutdown()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = make_project(tmp_path / "proj", test_frames=TEST_FRAMES)
    save_run(folder)
    return folder


def open_project(qtbot, window, folder: Path) -> str:
    assert window.library.open_project_path(folder)
    assert window.state.model_run == "tiny"
    test = window.state.project.video("test.avi").id
    window.state.set_video(test)
    qtbot.waitUntil(lambda: window.player.has_video and window.state.video_id == test, timeout=10000)
    return test


def answer_ray_dialog(workers: int, address: str = "", selected: bool = False, gpus: float = 0.0) -> list[RayChoice]:
    """Answer the next Ray dialog as a user would: the selected videos only (``selected``), the workers (and
    address, and GPU share), OK."""
    seen: list[RayChoice] = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, RayScoringDialog):
            QTimer.singleShot(50, answer)
            return
        seen.append(dialog.choice())  # what it opened with: the remembered choice
        dialog.workers.setValue(workers)
        dialog.address.setText(address)
        dialog.gpus.setValue(gpus)
        dialog.scope.setCurrentIndex(dialog.scope.findData("selected" if selected else "all"))
        dialog.accept()

    QTimer.singleShot(50, answer)
    return seen


def test_without_ray_the_action_is_disabled_and_names_the_install_command(qtbot, make_window, folder,
                                                                          monkeypatch) -> None:
    monkeypatch.setattr(review_controller, "ray_available", lambda: False)
    window = make_window()
    open_project(qtbot, window, folder)
    action = window.actions_by_key["score_all_on_ray"]
    assert not action.isEnabled()
    assert INSTALL in action.toolTip() and INSTALL in action.statusTip()
    assert window.actions_by_key["score_all"].isEnabled()  # scoring in one process is still there
    window.review.score_all_on_ray()  # even if triggered: a status line, no dialog, no job
    assert window.review.ray_worker is None and not error_dialog.shown


def test_the_choice_of_workers_and_cluster_is_remembered(tmp_path) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert remembered(settings).workers >= 1 and remembered(settings).address == ""
    remember(settings, RayChoice(3, "ray://head:10001"))
    again = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert remembered(again) == RayChoice(3, "ray://head:10001")
    dialog = RayScoringDialog(remembered(again))
    assert dialog.choice() == RayChoice(3, "ray://head:10001") and "cluster" in dialog.workers.suffix()
    dialog.address.setText("")
    assert "local Ray" in dialog.workers.suffix()
    assert dialog.gpus.value() == 0.0 and dialog.gpus.text() == "none (CPU workers)"
    dialog.gpus.setValue(0.25)
    remember(again, dialog.choice())
    assert remembered(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)) == RayChoice(3, "", 0.25)
    again.setValue("review/ray_gpus_per_worker", "nan")  # a damaged setting: CPU workers
    assert remembered(again).gpus_per_worker == 0.0
    dialog.deleteLater()


@pytest.mark.timeout(600)
def test_scoring_on_ray_fills_the_cache_and_events_as_a_local_scoring(qtbot, make_window, folder, tmp_path,
                                                                    local_ray) -> None:
    local = tmp_path / "local"
    shutil.copytree(folder, local)  # the same project, scored in this process for comparison
    window = make_window()
    test = open_project(qtbot, window, folder)
    window.review.scoring_options = {"percentile": 50.0}  # a low threshold: events in every video
    window.review.archive_options = {"segment_frames": 5}  # segments cut through the model's 4-frame clips
    progress: list[str] = []
    seen = answer_ray_dialog(2)
    window.actions_by_key["score_all_on_ray"].trigger()
    assert seen and window.review.ray_worker is not None
    window.review.ray_worker.progress.connect(lambda event: progress.append(event.status))
    assert not window.actions_by_key["score_video"].isEnabled()  # one scoring at a time
    qtbot.waitUntil(lambda: window.review.ray_worker is None, timeout=480000)
    assert not error_dialog.shown
    assert window.review.last_archive is not None and window.review.last_archive.segments_scored > 0
    assert any("segments" in line and "frames/s" in line and "left" in line for line in progress), progress

    project = window.state.project
    expected = score_project(Project.open(local, read_only=True), "tiny", percentile=50.0)
    for video in expected.videos:
        errors = cached_video_scores(project, window.review.run, video.video_id)
        assert errors is not None and np.allclose(errors, video.errors, rtol=1e-5, atol=1e-6)
    stored = read_events(events_dir(project, window.review.run))
    assert stored.threshold.value == pytest.approx(expected.threshold.value, rel=1e-5)
    assert [(e.video_id, e.start, e.end) for e in stored.events] == \
        [(e.video_id, e.start, e.end) for v in expected.videos for e in v.events]
    panel = window.review.review
    assert panel.scope.currentIndex() == 1  # the whole project's events, as after Score All
    assert {e.video_id for e in panel.events} == {v.video_id for v in expected.videos if v.events}
    qtbot.waitUntil(lambda: window.review.chart.frames == TEST_FRAMES, timeout=10000)  # the shown video's scores
    assert window.review.session.video_id == test

    seen = answer_ray_dialog(2)  # the next run opens with the choice made, and finds everything cached
    window.actions_by_key["score_all_on_ray"].trigger()
    assert seen == [RayChoice(2, "")]
    qtbot.waitUntil(lambda: window.review.ray_worker is None, timeout=120000)
    assert window.review.last_archive.segments_scored == 0 and not error_dialog.shown


def test_the_progress_reads_segments_frames_a_second_and_the_time_left() -> None:
    from core.jobs import Progress, Stage
    from desktop_app.review.ray_scoring import RateProgress

    heard: list[Progress] = []
    now = [100.0]
    rate = RateProgress(heard.append, clock=lambda: now[0])
    rate(Progress(0, 1000, "0/10 segments", Stage.SCORING))
    now[0] = 102.0
    rate(Progress(400, 1000, "4/10 segments", Stage.SCORING))
    assert [event.status for event in heard] == ["scoring: 0/10 segments",
                                                 "scoring: 4/10 segments, 200 frames/s, 3s left"]
    assert heard[1].done == 400 and heard[1].total == 1000


@pytest.mark.timeout(600)
def test_scoring_the_selected_videos_on_ray_scores_only_them(qtbot, make_window, folder, local_ray) -> None:
    window = make_window()
    test = open_project(qtbot, window, folder)
    project = window.state.project
    window.review.scoring_options = {"threshold": 0.0001}  # set by hand: no calibration footage to score
    window.review.archive_options = {"segment_frames": 5}
    videos = window.video_list
    videos.clearSelection()
    for row in range(videos.topLevelItemCount()):
        item = videos.topLevelItem(row)
        item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) == test)
    assert window.review.selected_videos() == [test]
    answer_ray_dialog(2, selected=True)
    window.actions_by_key["score_all_on_ray"].trigger()
    qtbot.waitUntil(lambda: window.review.ray_worker is None, timeout=480000)
    assert not error_dialog.shown
    assert set(window.review.last_archive.scored_now) == {test}
    run = window.review.run
    assert cached_video_scores(project, run, test) is not None
    assert all(cached_video_scores(project, run, other) is None for other in project.videos if other != test)
    assert {e.video_id for e in window.review.review.events} == {test}


@pytest.mark.timeout(600)
def test_gpu_workers_on_a_ray_without_gpus_end_in_a_dialog_and_keep_the_events(qtbot, make_window, folder,
                                                                             local_ray) -> None:
    window = make_window()
    open_project(qtbot, window, folder)
    window.review.scoring_options = {"threshold": 0.0001}
    window.review.archive_options = {"segment_frames": 5}
    events = list(window.review.review.events)
    answer_ray_dialog(1, gpus=0.5)
    window.actions_by_key["score_all_on_ray"].trigger()
    qtbot.waitUntil(lambda: window.review.ray_worker is None, timeout=480000)
    assert [e.text for e in error_dialog.shown] and "has 0 GPUs" in error_dialog.shown[-1].text
    assert "GPU workers asked for (0.5 GPU each)" in error_dialog.shown[-1].text
    assert list(window.review.review.events) == events  # nothing lost
    assert window.actions_by_key["score_all_on_ray"].isEnabled()  # the app goes on
