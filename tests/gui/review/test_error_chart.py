"""The regularity chart: threshold drags re-flag events with core's rule, clicks seek, ground truth and AUC."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from core.evaluation.roc import roc_auc
from core.inference.anomaly.events import flag_events
from core.inference.anomaly.regularity import Threshold
from desktop_app.review import ErrorChart


def bumps(frames: int = 200) -> np.ndarray:
    """Errors of 0.1 with a low bump (0.4) at frames 40-49 and a high one (0.8) at 120-139."""
    errors = np.full(frames, 0.1, np.float32)
    errors[40:50] = 0.4
    errors[120:140] = 0.8
    return errors


@pytest.fixture
def chart(qtbot) -> ErrorChart:
    widget = ErrorChart()
    qtbot.addWidget(widget)
    widget.resize(800, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def scene_point(chart: ErrorChart, x: float, y: float) -> QPoint:
    """The chart's plot-viewport pixel showing data point (x, y)."""
    view = chart.plot.getPlotItem().vb
    scene = view.mapViewToScene(QPointF(x, y))
    return chart.plot.mapFromScene(scene)


def test_dragging_the_threshold_re_flags_events_at_once(qtbot, chart: ErrorChart) -> None:
    chart.set_scores(bumps(), Threshold(value=0.6))
    assert [(e.start, e.end) for e in chart.events] == [(120, 140)]
    assert chart.threshold_line.isVisible()
    chart.plot.getPlotItem().vb.setRange(xRange=(0, 200), yRange=(0, 1), padding=0)
    qtbot.wait(50)
    heard: list[float] = []
    chart.threshold_changed.connect(heard.append)
    with qtbot.waitSignal(chart.events_changed, timeout=5000) as changed:
        start = scene_point(chart, 80, 0.6)
        end = scene_point(chart, 80, 0.3)
        viewport = chart.plot.viewport()
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
        for step in range(1, 11):
            qtbot.mouseMove(viewport, start + (end - start) * step / 10)
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert heard and 0.25 < heard[-1] < 0.4
    assert [(e.start, e.end) for e in changed.args[0]] == [(40, 50), (120, 140)]
    assert chart.events == flag_events(chart.smoothed(), chart.threshold, 1, 0, "")  # core's rule, not a copy
    chart.set_threshold(0.9)
    assert chart.events == []


def test_min_run_and_smoothing_flag_as_core_does(chart: ErrorChart) -> None:
    errors = bumps()
    errors[80] = 0.6  # one noisy frame: above 0.3, but not once smoothed over 3 frames
    threshold = Threshold(value=0.3, window=3)
    chart.set_scores(errors)
    chart.set_flagging(threshold, min_run=3)
    assert chart.events == flag_events(threshold.smooth(errors), 0.3, 3, 0)
    assert all(e.start != 80 for e in chart.events)


def test_a_click_seeks_and_the_cursor_follows_the_player(qtbot, chart: ErrorChart) -> None:
    chart.set_scores(bumps())
    chart.plot.getPlotItem().vb.setRange(xRange=(0, 200), yRange=(0, 1), padding=0)
    qtbot.wait(50)
    with qtbot.waitSignal(chart.seek_requested, timeout=5000) as seek:
        qtbot.mouseClick(chart.plot.viewport(), Qt.MouseButton.LeftButton, pos=scene_point(chart, 75, 0.5))
    assert abs(seek.args[0] - 75) <= 1
    chart.set_position(130)
    assert chart.position == 130


def test_ground_truth_is_shaded_and_the_auc_shown(chart: ErrorChart) -> None:
    errors = bumps()
    chart.set_scores(errors[:100], Threshold(value=0.6), ground_truth=[(120, 140)])
    assert chart.auc is None  # no abnormal frame scored yet
    chart.append(100, errors[100:])
    labels = np.zeros(200, bool)
    labels[120:140] = True
    assert chart.auc == pytest.approx(roc_auc(errors, labels))
    assert "AUC 1.000" in chart.summary.text() and len(chart._truth_items) == 1


def test_a_long_series_is_drawn_downsampled_and_clipped_to_view(chart: ErrorChart) -> None:
    errors = np.random.default_rng(0).random(100_000).astype(np.float32)
    chart.set_scores(errors, Threshold(value=0.999))
    assert chart.frames == 100_000
    assert chart.curve.opts["autoDownsample"] and chart.curve.opts["clipToView"]
    assert len(chart.events) == len(flag_events(errors, 0.999))


def test_another_video_shows_its_whole_length_not_the_previous_zoom(qtbot, chart: ErrorChart) -> None:
    chart.set_scores(bumps(200), Threshold(value=0.6), video_id="a")
    view = chart.plot.getPlotItem().vb
    view.setRange(xRange=(40, 60), padding=0)  # the analyst zoomed in on the first video
    qtbot.waitUntil(lambda: view.viewRange()[0][1] <= 61, timeout=5000)
    chart.clear("b")
    chart.set_scores(bumps(3000), video_id="b")
    qtbot.waitUntil(lambda: view.viewRange()[0][0] <= 0 and view.viewRange()[0][1] >= 2999, timeout=5000)


def test_the_chart_draws_a_session_it_shares(chart: ErrorChart) -> None:
    from core.inference.anomaly.flagging_session import Flagging

    session = chart.session
    session.set_flagging(Flagging(Threshold(value=0.6), 1, 0))
    session.append(0, bumps(150))
    assert chart.frames == 150 and [(e.start, e.end) for e in chart.events] == [(120, 140)]
    assert chart.curve.getData()[1].size == 150 and chart.threshold_line.value() == 0.6
    assert "1 event" in chart.summary.text()
    session.move_threshold(0.3)
    assert chart.threshold_line.value() == 0.3 and "2 events" in chart.summary.text()
