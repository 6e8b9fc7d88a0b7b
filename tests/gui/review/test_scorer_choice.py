"""The scorer box beside the model run: the analyst scores a next-frame run by its prediction error, its motion
statistics or the two fused, and the chart and the stored events follow the scorer chosen."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from core.inference.anomaly.events_file import read_events
from core.inference.anomaly.project_scoring import cached_video_scores, run_model
from core.inference.anomaly.scorers import SCORERS
from core.project import Project
from core.training.from_project import train_project
from core.training.motion_run import fit_run_motion
from core.training.request import TrainingRequest
from tests.core.inference.scoring_project import make_project, save_run
from tests.gui.window_driver import no_device_listing

TEST_FRAMES = 22


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two next-frame runs, ``tiny`` with motion statistics and ``plain`` without, and a motion run."""
    folder = make_project(tmp_path / "proj", test_frames=TEST_FRAMES)
    save_run(folder, "tiny", task="predict")
    save_run(folder, "plain", task="predict")
    with closing(Project.open(folder, read_only=True)) as project:
        fit_run_motion(project, "tiny")
    with closing(Project.open(folder)) as project:
        train_project(project, TrainingRequest("anomaly", "motion", run_name="motion"))
    return folder


def enabled(window) -> list[str]:
    box = window.review.scorer_box
    return [box.itemText(n) for n in range(box.count()) if box.model().item(n).isEnabled()]


def score_shown_video(qtbot, window) -> None:
    window.review.score_video()
    qtbot.waitUntil(lambda: not window.review.scoring and window.review.chart.frames == TEST_FRAMES, timeout=60000)


def test_the_chosen_scorer_scores_the_video_and_review_follows_it(qtbot, make_window, folder, monkeypatch) -> None:
    window = make_window()
    no_device_listing(monkeypatch, window)
    assert window.library.open_project_path(folder)
    review, box = window.review, window.review.scorer_box
    window.state.set_model_run("tiny")
    assert enabled(window) == list(SCORERS) and box.isEnabled()
    assert box.currentText() == "prediction" and review.run.scorer == "prediction"  # the run's default
    test = window.state.project.video("test.avi").id
    window.state.set_video(test)
    qtbot.waitUntil(lambda: window.player.has_video and window.state.video_id == test, timeout=10000)

    box.setCurrentText("motion")
    assert review.run.scorer == "motion"
    score_shown_video(qtbot, window)
    assert "motion scorer" in window.statusBar().currentMessage()
    motion = cached_video_scores(window.state.project, run_model(folder, "tiny", "motion"), test)
    assert motion is not None and np.array_equal(review.chart.errors, motion)
    stored = read_events(folder / "runs" / "tiny")
    assert stored is not None and stored.flagging["scorer"] == "motion"
    assert review.session.flagging is not None and review.session.flagging.threshold == stored.threshold

    box.setCurrentText("prediction")  # never scored by the prediction error: no chart, no motion events
    assert review.run.scorer == "prediction" and review.chart.frames == 0
    assert review.session.stored is None and review._stored is None
    score_shown_video(qtbot, window)
    prediction = cached_video_scores(window.state.project, run_model(folder, "tiny", "prediction"), test)
    assert prediction is not None and np.array_equal(review.chart.errors, prediction)
    assert not np.allclose(prediction, motion)
    assert read_events(folder / "runs" / "tiny").flagging["scorer"] == "prediction"

    box.setCurrentText("motion")  # the motion scores are cached: shown at once, not scored again
    assert review.chart.frames == TEST_FRAMES and np.array_equal(review.chart.errors, motion)
    window.state.set_model_run("tiny")  # the same run chosen again (its error level refitted): the scorer stays
    assert box.currentText() == "motion" and review.run.scorer == "motion"

    window.state.set_model_run("plain")  # no motion statistics: the prediction error only
    assert enabled(window) == ["prediction"] and not box.isEnabled()
    assert box.currentText() == "prediction" and review.run.scorer == "prediction"
    assert "framewatch fit-motion" in box.toolTip()
    window.state.set_model_run("tiny")  # back to it: the scorer last chosen for it
    assert enabled(window) == list(SCORERS) and box.currentText() == "motion" and review.run.scorer == "motion"


def test_the_scorer_chosen_for_a_run_is_kept_across_restarts(qtbot, make_window, folder, monkeypatch) -> None:
    from PySide6.QtCore import QSettings

    from desktop_app.shell.main_window import MainWindow

    window = make_window()
    no_device_listing(monkeypatch, window)
    assert window.library.open_project_path(folder)
    window.state.set_model_run("tiny")
    window.review.scorer_box.setCurrentText("fused")
    window.state.set_model_run("motion")
    window.state.set_model_run("plain")  # the run chosen last: the next session opens on it
    window.settings.sync()
    path = window.settings.fileName()
    window.close()
    again = MainWindow(settings=QSettings(path, QSettings.Format.IniFormat), autosave_interval_s=3600)
    qtbot.addWidget(again)
    no_device_listing(monkeypatch, again)
    try:
        assert again.library.open_project_path(folder)
        again.state.set_model_run("tiny")
        assert again.review.scorer_box.currentText() == "fused" and again.review.run.scorer == "fused"
        again.state.set_model_run("motion")
        assert again.review.scorer_box.currentText() == "motion"
    finally:
        again.close()


def test_a_motion_run_scores_with_motion_only(qtbot, make_window, folder, monkeypatch) -> None:
    window = make_window()
    no_device_listing(monkeypatch, window)
    assert window.library.open_project_path(folder)
    window.state.set_model_run("motion")
    box = window.review.scorer_box
    assert enabled(window) == ["motion"] and not box.isEnabled()
    assert box.currentText() == "motion" and window.review.run.scorer == "motion"
    window.state.set_model_run("tiny")  # a run that can be scored every way: its default again
    assert box.isEnabled() and box.currentText() == "prediction"
