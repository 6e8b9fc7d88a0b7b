"""Scoring a video for the chart: it fills while scoring runs, reopens from the cache, cancels, and an
error ends in a dialog that one click dismisses (also with blocking dialogs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from core.errors import Cancelled
from core.inference.anomaly.project_scoring import score_project
from core.project import Project
from desktop_app.jobs import error_dialog
from desktop_app.review import ErrorChart, ScoringJob
from tests.core.inference.scoring_project import make_project, save_run
from tests.gui.modal import click_ok_on_next_box
from tests.gui.review.gated_loader import GatedLoader

TEST_FRAMES = 22


@pytest.fixture
def project(tmp_path: Path):
    folder = make_project(tmp_path / "proj", test_frames=TEST_FRAMES)
    save_run(folder)
    opened = Project.open(folder)
    yield opened
    opened.close(discard=True)


@pytest.fixture
def chart(qtbot) -> ErrorChart:
    widget = ErrorChart()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_the_chart_fills_before_scoring_ends_then_reopens_from_the_cache(qtbot, project, chart) -> None:
    loader = GatedLoader()
    # the train-split videos calibrate first, from the cache, so every model call below is the test video's
    score_project(project, "tiny", [v.id for v in project.videos.values() if v.split == "train"])
    job = ScoringJob(project, "tiny", "test.avi", chart.session, batch_size=1, load_model=loader)
    with qtbot.waitSignal(job.threshold_ready, timeout=30000):
        job.start()
    qtbot.waitUntil(lambda: chart.frames > 0, timeout=30000)
    assert job.is_running and 0 < chart.frames < TEST_FRAMES  # the chart grows while the job is held
    assert chart.threshold is not None and chart.threshold_line.isVisible()
    with qtbot.waitSignal(job.finished, timeout=60000) as finished:
        loader.gate.set()
    video = finished.args[0]
    assert chart.frames == TEST_FRAMES and np.array_equal(chart.errors, video.errors)
    assert chart.video_id == project.video("test.avi").id and len(chart._truth_items) == 1  # interval 8-14
    assert chart.auc is not None

    again, reloaded = ErrorChart(), GatedLoader(free=0)
    qtbot.addWidget(again)
    chunks: list[int] = []
    second = ScoringJob(project, "tiny", "test.avi", again.session, load_model=reloaded)
    second.scores.connect(lambda first, errors: chunks.append(len(errors)))
    with qtbot.waitSignal(second.done, timeout=30000):
        second.start()
    assert reloaded.loads == 0 and chunks == [TEST_FRAMES]  # every score from the cache, in one piece
    assert np.array_equal(again.errors, video.errors) and again.events == second.result.videos[0].events


def test_cancel_stops_scoring_quietly_and_keeps_what_was_scored(qtbot, project, chart) -> None:
    loader = GatedLoader()
    job = ScoringJob(project, "tiny", "test.avi", chart.session, batch_size=1, load_model=loader,
                     threshold=_any_threshold())
    job.start()
    qtbot.waitUntil(lambda: chart.frames > 0, timeout=30000)
    with qtbot.waitSignal(job.failed, timeout=30000) as failed:
        job.cancel()
        loader.gate.set()
    assert isinstance(failed.args[0], Cancelled) and error_dialog.shown == []
    assert chart.frames > 0


def _any_threshold():
    from core.inference.anomaly.regularity import Threshold

    return Threshold(value=0.01)


def test_an_error_ends_in_a_dialog_one_click_dismisses(qtbot, project, chart, monkeypatch) -> None:
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)  # a real modal box, as users get it
    clicked = click_ok_on_next_box()
    job = ScoringJob(project, "no-such-run", "test.avi", chart.session)
    with qtbot.waitSignal(job.done, timeout=30000):
        job.start()
    assert len(clicked) == 1 and "no-such-run" in clicked[0]
    assert QApplication.activeModalWidget() is None and not job.is_running
