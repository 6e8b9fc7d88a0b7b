"""The annotated anomaly video and the drawing it is made of (score curve panel, cursor, alert border)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import Cancelled, FrameOutOfRangeError
from core.inference.anomaly.events import flag_events
from core.inference.anomaly.exports import ScoredVideo, frame_table
from core.inference.anomaly.regularity import Threshold
from core.inference.errors import ScoreError
from core.jobs import Progress
from core.render.annotated_video import MIN_WIDTH, curve_labels, curve_values, write_annotated_video
from core.render.score_overlay import ALERT, curve_panel, draw_alert_border, draw_cursor, frame_x
from core.video.cutting import CutError, OutputExistsError
from tests.video_factory import write_video

#: Frames 4-6 above the threshold (an event with min_run 2), frame 10 alone (flagged, in no event).
ERRORS = [0.1, 0.12, 0.1, 0.15, 0.8, 0.9, 0.7, 0.1, 0.12, 0.1, 0.6, 0.1]
THRESHOLD = 0.5


def _video(tmp_path: Path, frames: int = 12) -> ScoredVideo:
    path = write_video(tmp_path / "clip.avi", frames)  # 64x48 at 25 fps
    errors = np.asarray(ERRORS[:frames], np.float32)
    limit = Threshold(THRESHOLD)
    events = flag_events(limit.smooth(errors), THRESHOLD, 2, 0, "vid")
    return ScoredVideo("vid", "clip.avi", path, "file", 25.0, errors, limit, events, "run", "f" * 32)


def _frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def _reddish(pixels: np.ndarray) -> bool:
    r, g, b = (float(c) for c in np.mean(pixels.reshape(-1, 3), axis=0))
    return r > 170 and g < 90 and b < 90


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScoredVideo, list[np.ndarray], list[Progress]]:
    tmp_path = tmp_path_factory.mktemp("annotated")
    video = _video(tmp_path)
    events: list[Progress] = []
    out = write_annotated_video(tmp_path / "out" / "clip.annotated.mp4", video, progress=events.append)
    return video, _frames(out), events


def test_the_annotated_video_has_a_frame_per_video_frame_above_a_panel(written) -> None:
    video, frames, progress = written
    assert len(frames) == video.frames == 12
    height, width = frames[0].shape[:2]
    scale = MIN_WIDTH // 64  # 64x48 frames enlarged 5 times
    assert width == 64 * scale and height > 48 * scale
    assert progress[-1].done == progress[-1].total == 12


def test_the_panels_cursor_moves_from_frame_to_frame(written) -> None:
    _, frames, _ = written
    top = 48 * (MIN_WIDTH // 64)
    panels = [frame[top:].astype(np.int16) for frame in frames]
    assert all(np.abs(a - b).max() > 100 for a, b in zip(panels, panels[1:], strict=False))
    width = frames[0].shape[1]
    for t in (0, 6, 11):  # the cursor is the brightest column at the frame's place
        columns = panels[t][20:-10].mean(axis=(0, 2))
        assert abs(int(np.argmax(columns)) - frame_x(t, 12, width)) <= 1


def test_frames_in_an_event_carry_the_red_border_and_others_do_not(written) -> None:
    video, frames, _ = written
    event_frames = {t for e in video.events for t in range(e.start, e.end)}
    assert event_frames == {4, 5, 6}
    top = 48 * (MIN_WIDTH // 64)
    for t, frame in enumerate(frames):
        left_edge = frame[top // 2:top - 8, 0:2]  # the frame's left border, below the label
        assert _reddish(left_edge) == (t in event_frames), t
    assert not _reddish(frames[10][top // 2:top - 8, 0:2])  # flagged alone: an orange border, not the alert
    assert float(np.mean(frames[10][top // 2:top - 8, 0:1, 0])) > 170  # but a border all the same


def test_an_existing_output_is_refused_and_a_cancel_leaves_no_file(tmp_path: Path) -> None:
    video = _video(tmp_path)
    out = tmp_path / "a.mp4"
    out.write_bytes(b"mine")
    with pytest.raises(OutputExistsError):
        write_annotated_video(out, video)
    assert out.read_bytes() == b"mine"
    cancel = threading.Event()

    def stop_at_five(event: Progress) -> None:
        if event.done >= 5:
            cancel.set()

    with pytest.raises(Cancelled):
        write_annotated_video(tmp_path / "b.mp4", video, progress=stop_at_five, cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "clip.avi"]


def test_bad_requests_are_refused_before_any_frame_is_read(tmp_path: Path) -> None:
    video = _video(tmp_path)
    with pytest.raises(CutError, match="unknown video format '.gif'"):
        write_annotated_video(tmp_path / "a.gif", video)
    with pytest.raises(ScoreError, match="unknown curve 'loudness'"):
        write_annotated_video(tmp_path / "a.mp4", video, curve="loudness")
    longer = replace(video, errors=np.full(20, 0.1, np.float32), events=[])
    with pytest.raises(FrameOutOfRangeError, match="clip.avi"):  # 20 frames scored, 12 decode
        write_annotated_video(tmp_path / "b.mp4", longer)
    assert not (tmp_path / "b.mp4").exists()


def test_the_curve_crosses_the_threshold_exactly_at_the_flagged_frames(tmp_path: Path) -> None:
    video = _video(tmp_path)
    table = frame_table(video, np.arange(13) / 25)
    sa, level = curve_values(table, THRESHOLD, "abnormality")
    assert list(sa > level) == list(table.flagged)
    sr, sr_level = curve_values(table, THRESHOLD, "regularity")
    np.testing.assert_allclose(sr, 1 - sa, atol=1e-6)
    assert sr_level == pytest.approx(1 - level) and list(sr < sr_level) == list(table.flagged)
    flat = frame_table(replace(video, errors=np.full(12, 0.2, np.float32)), np.arange(13) / 25)
    assert curve_values(flat, THRESHOLD, "abnormality")[1] > 1  # above every frame: drawn at the top edge


def test_the_default_curve_is_the_error_its_threshold_label_is_in(tmp_path: Path) -> None:
    video = _video(tmp_path)
    table = frame_table(video, np.arange(13) / 25)
    values, level = curve_values(table, THRESHOLD)  # the default curve
    assert list(values > level) == list(table.flagged)  # higher = more abnormal, as the error is
    title, label, (bottom, top) = curve_labels(table, THRESHOLD, level)
    low, high = float(table.smoothed.min()), float(table.smoothed.max())
    np.testing.assert_allclose(low + values * (high - low), table.smoothed, rtol=1e-6)  # the curve is the error
    assert low + level * (high - low) == pytest.approx(THRESHOLD)  # and the line is at the labelled error
    assert title == "error" and label.startswith(f"threshold {THRESHOLD:.4g}")
    assert (float(bottom), float(top)) == (pytest.approx(low, rel=1e-2), pytest.approx(high, rel=1e-2))
    sr, sr_level = curve_values(table, THRESHOLD, "regularity")
    _, sr_label, axis = curve_labels(table, THRESHOLD, sr_level, "regularity")
    assert sr_label.startswith(f"threshold sr {sr_level:.3g} (error {THRESHOLD:.4g})") and axis == ("0", "1")


def test_the_panel_draws_the_curve_threshold_and_spans_and_the_cursor_only_on_a_copy() -> None:
    values = np.linspace(0, 1, 50)
    plain = curve_panel(values, 200, 80)
    panel = curve_panel(values, 200, 80, level=0.5, spans=[(10, 20)], ticks=values > 0.9)
    assert panel.shape == (80, 200, 3) and panel.dtype == np.uint8
    assert (panel != plain).any(axis=2).sum() > 200  # a line, a shaded span and ticks
    cursor = draw_cursor(panel, 25, 50, "25")
    assert (cursor[:, frame_x(25, 50, 200)] == 255).all(axis=1).sum() > 30 and not (cursor == panel).all()
    assert frame_x(0, 50, 200) < frame_x(49, 50, 200) and frame_x(0, 1, 200) == frame_x(0, 50, 200)
    image = np.zeros((40, 160, 3), np.uint8)
    draw_alert_border(image, "ANOMALY")
    assert tuple(image[20, 0]) == ALERT and tuple(image[39, 80]) == ALERT and tuple(image[25, 80]) == (0, 0, 0)
