"""Window segments of classify and regress runs: segments -> timeline bands, and the view that classifies a
video in a worker and exports its annotated copy."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.inference.labelling.windows import Segment, classify_video, window_model
from core.models.files import load_model_file
from core.render.window_video import CLASS_COLORS, UNCERTAIN_COLOR
from core.runs import RunRecord
from core.video.open import open_video
from desktop_app.jobs import error_dialog
from desktop_app.prediction import SegmentsView, segment_bands, value_color
from desktop_app.prediction.segment_bands import VALUE_RAMP
from desktop_app.state import LaneBand
from tests.core.cli.test_predict_commands import make_run
from tests.gui.prediction.conftest import CLASSES, VIDEO_FRAMES, window_run

WAIT_MS = 120_000


def _hex(rgb) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _classified(start: int, stop: int, label: str | None, confidence: float = 0.9) -> Segment:
    return Segment(start, stop, 1, label, uncertain=label is None, mean_confidence=confidence,
                   min_confidence=confidence)


def _regressed(start: int, stop: int, value: float) -> Segment:
    return Segment(start, stop, 1, f"{value:.4g}", mean_value=value, min_value=value, max_value=value)


def test_class_segments_become_bands_whose_colour_is_stable_per_label() -> None:
    segments = [_classified(0, 8, "walk", 0.93), _classified(8, 12, None, 0.41), _classified(12, 20, "bike"),
                _classified(20, 30, "walk", 0.8)]
    bands = segment_bands(segments, class_names=["walk", "bike"])
    assert bands == [LaneBand(0, 8, _hex(CLASS_COLORS[0]), "walk 0.93", "segment0"),
                     LaneBand(8, 12, _hex(UNCERTAIN_COLOR), "uncertain 0.41", "segment1"),
                     LaneBand(12, 20, _hex(CLASS_COLORS[1]), "bike 0.90", "segment2"),
                     LaneBand(20, 30, _hex(CLASS_COLORS[0]), "walk 0.80", "segment3")]
    # a label keeps its colour whatever else the video holds and in whatever order segments come
    alone = segment_bands([_classified(0, 5, "bike")], class_names=["walk", "bike"])
    assert alone[0].color == bands[2].color
    unnamed = segment_bands([_classified(0, 5, "class 7"), _classified(5, 9, "class 7")])
    assert unnamed[0].color == unnamed[1].color == segment_bands([_classified(3, 4, "class 7")])[0].color
    # the project's class colours win
    assert segment_bands(segments[:1], ["walk"], {"walk": "#56b4e9"})[0].color == "#56b4e9"


def test_regression_segments_become_a_colour_ramp_with_the_value_as_text() -> None:
    bands = segment_bands([_regressed(0, 4, 1.0), _regressed(4, 8, 2.0), _regressed(8, 12, 3.0)])
    assert [b.text for b in bands] == ["1", "2", "3"] and [(b.start, b.end) for b in bands][2] == (8, 12)
    assert [b.color for b in bands] == [_hex(VALUE_RAMP[0]), _hex(VALUE_RAMP[1]), _hex(VALUE_RAMP[2])]
    fixed = segment_bands([_regressed(0, 4, 2.0)], value_range=(0.0, 4.0))
    assert fixed[0].color == _hex(VALUE_RAMP[1])
    assert value_color(9.0, 0.0, 4.0) == _hex(VALUE_RAMP[2]) and value_color(1.0, 1.0, 1.0) == _hex(VALUE_RAMP[1])


@pytest.fixture
def segments_view(qtbot) -> SegmentsView:
    widget = SegmentsView()
    qtbot.addWidget(widget)
    widget.resize(640, 160)
    widget.show()
    yield widget
    widget.cancel()


@pytest.mark.parametrize("task", ["classify", "regress"])
def test_classify_fills_the_bands_with_core_segments(qtbot, segments_view, project, video, task) -> None:
    run = window_run(project, task)
    assert segments_view.set_source(run, video)
    with qtbot.waitSignal(segments_view.bands_changed, timeout=WAIT_MS) as changed:
        qtbot.mouseClick(segments_view.classify_button, Qt.MouseButton.LeftButton)
    expected = classify_video(load_model_file(run / "best.keras"), video, window_model(project, task))
    assert segments_view.result.segments == expected.segments
    assert changed.args[0] == segment_bands(expected.segments, CLASSES if task == "classify" else ())
    assert segments_view.strip.bands == changed.args[0] and segments_view.strip.frame_count == VIDEO_FRAMES
    assert changed.args[0][0].start == 0 and changed.args[0][-1].end == VIDEO_FRAMES
    assert segments_view.export_button.isEnabled()


def test_export_annotated_video_writes_every_frame(qtbot, segments_view, project, video, tmp_path) -> None:
    segments_view.set_source(window_run(project, "classify"), video)
    with qtbot.waitSignal(segments_view.segments_ready, timeout=WAIT_MS):
        segments_view.classify(stride=2)
    assert segments_view.result.stride == 2
    out = tmp_path / "labelled.mp4"
    with qtbot.waitSignal(segments_view.export_finished, timeout=WAIT_MS) as finished:
        segments_view.export_annotated(out)
    assert finished.args == [out]
    with open_video(out) as written:
        assert written.frame_count == VIDEO_FRAMES


def test_an_existing_annotated_video_is_refused_in_a_dialog(qtbot, segments_view, project, video, tmp_path,
                                                             answer_dialogs) -> None:
    segments_view.set_source(window_run(project, "classify"), video)
    with qtbot.waitSignal(segments_view.segments_ready, timeout=WAIT_MS):
        segments_view.classify()
    out = tmp_path / "labelled.mp4"
    out.write_bytes(b"mine")
    worker = segments_view.export_annotated(out)
    qtbot.waitUntil(lambda: worker.is_done and bool(answer_dialogs()), timeout=WAIT_MS)
    assert "already exists" in answer_dialogs()[0] and out.read_bytes() == b"mine"
    assert QApplication.activeModalWidget() is None and not segments_view.cancel_button.isEnabled()


def test_a_run_without_window_results_gets_a_message(qtbot, segments_view, project, video) -> None:
    run = make_run(project, "next")
    replace(RunRecord.load(run), model_path="best.keras").save(run)  # as training records it
    assert not segments_view.set_source(run, video)
    assert "gives no result per window" in segments_view.message.text()
    assert not segments_view.classify_button.isEnabled() and segments_view.classify() is None
    assert error_dialog.shown == []


def test_cancel_stops_the_classification_without_a_dialog(qtbot, segments_view, project, video) -> None:
    segments_view.set_source(window_run(project, "classify"), video)
    worker = segments_view.classify()
    qtbot.mouseClick(segments_view.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: worker.is_done, timeout=WAIT_MS)
    assert worker.cancelled and segments_view.result is None and segments_view.bands == []
    assert "cancelled" in segments_view.message.text() and error_dialog.shown == []
