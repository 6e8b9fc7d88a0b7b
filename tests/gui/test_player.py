"""The player shows exact frames, steps, seeks, plays and keeps the aspect ratio."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QRect, QSize

from desktop_app.player.frame_view import fit_rect
from desktop_app.player.player import PlayerWidget, format_time


def make_clip(path: Path, frames: int = 40, size: tuple[int, int] = (96, 64), fps: float = 25.0) -> Path:
    """A lossless clip whose frame k is a flat gray of level 5*k (so a frame's index can be read back)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, size)
    for k in range(frames):
        writer.write(np.full((size[1], size[0], 3), 5 * k, np.uint8))
    writer.release()
    return path


def level(frame: np.ndarray) -> int:
    return round(float(frame.mean()) / 5)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "levels.avi")


@pytest.fixture
def player(qtbot, clip: Path) -> PlayerWidget:
    widget = PlayerWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.show()
    with qtbot.waitSignal(widget.video_loaded, timeout=10000):
        widget.load(clip, frame_count=40)
    qtbot.waitUntil(lambda: widget.shown_index == 0, timeout=5000)
    yield widget
    widget.unload()


def shown_level(widget: PlayerWidget) -> int:
    image = widget.view.image
    assert image is not None
    return round(image.pixelColor(image.width() // 2, image.height() // 2).red() / 5)


def test_steps_and_seeks_show_the_exact_frame(qtbot, player: PlayerWidget) -> None:
    assert shown_level(player) == 0
    player.step(1)
    qtbot.waitUntil(lambda: player.shown_index == 1, timeout=5000)
    assert shown_level(player) == 1
    player.step(10)
    qtbot.waitUntil(lambda: player.shown_index == 11, timeout=5000)
    assert shown_level(player) == 11
    player.step(-10)
    qtbot.waitUntil(lambda: player.shown_index == 1, timeout=5000)
    player.seek(33)
    qtbot.waitUntil(lambda: player.shown_index == 33, timeout=5000)
    assert shown_level(player) == 33
    assert player.frame_spin.value() == 33
    assert player.timeline.position == 33
    player.go_last()
    qtbot.waitUntil(lambda: player.shown_index == 39, timeout=5000)
    player.step(5)  # clamped at the end
    assert player.position == 39
    player.go_first()
    qtbot.waitUntil(lambda: player.shown_index == 0, timeout=5000)


def test_time_display_and_jump_to_a_time(qtbot, player: PlayerWidget) -> None:
    player.seek_seconds(1.0)  # 25 fps
    qtbot.waitUntil(lambda: player.shown_index == 25, timeout=5000)
    assert "00:01.000" in player.time_label.text()
    assert "#25" in player.view.caption
    assert format_time(3725.5) == "1:02:05.500"


def test_play_advances_and_stops_at_the_end(qtbot, player: PlayerWidget) -> None:
    player.set_speed(4.0)
    with qtbot.waitSignal(player.playing_changed, timeout=5000):
        player.play()
    assert player.playing
    qtbot.waitUntil(lambda: not player.playing, timeout=15000)
    assert player.shown_index == 39
    assert player.frames_shown > 1
    assert shown_level(player) == 39


def test_pause_keeps_the_frame_shown(qtbot, player: PlayerWidget) -> None:
    player.set_speed(0.5)
    player.play()
    qtbot.waitUntil(lambda: player.shown_index >= 3, timeout=10000)
    player.pause()
    assert player.position == player.shown_index
    assert player.frame_spin.value() == player.shown_index


def test_speed_steps_through_the_presets(player: PlayerWidget) -> None:
    player.set_speed(1.0)
    player.faster()
    assert player.speed == 1.5
    player.slower()
    player.slower()
    assert player.speed == 0.75
    assert player.speed_box.currentText() == "0.75x"


def test_frame_view_keeps_the_aspect_ratio(qtbot, player: PlayerWidget) -> None:
    assert fit_rect(QSize(96, 64), QRect(0, 0, 300, 100)) == QRect(75, 0, 150, 100)
    player.view.resize(600, 200)
    rect = player.view.image_rect()
    assert abs(rect.width() / rect.height() - 96 / 64) < 0.02
    assert rect.height() == 200


def test_unreadable_file_reports_failure(qtbot, tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    widget = PlayerWidget()
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.load_failed, timeout=10000) as blocker:
        widget.load(bad)
    assert "broken.mp4" in str(blocker.args[0])
    assert not widget.has_video


def test_h264_demo_clip_shows_exactly_the_decoded_frame_after_jumps(qtbot) -> None:
    from core.video import open_video
    from desktop_app.library.demo import DEMO_DIR

    clip = DEMO_DIR / "ped2_test01.mp4"
    widget = PlayerWidget()
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.video_loaded, timeout=10000):
        widget.load(clip, frame_count=180)
    with open_video(clip) as reference:
        for k in (0, 150, 149, 37, 38, 179, 60, 59):
            widget.seek(k)
            qtbot.waitUntil(lambda k=k: widget.shown_index == k, timeout=10000)
            image = widget.view.image
            shown = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
            shown = shown[:, : image.width() * 3].reshape(image.height(), image.width(), 3)
            assert np.array_equal(shown, reference.read(k)), f"frame {k} differs from a sequential decode"
    widget.unload()
