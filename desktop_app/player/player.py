"""The player: frame view, timeline scrubber and transport controls, driven by a playback clock.

Playback follows a :class:`QElapsedTimer`: at each tick the frame due is ``anchor + elapsed * fps *
speed``; when that frame is not decoded yet the player keeps showing the last one and moves on when it
arrives, so late frames are dropped instead of the clock drifting. Frames come from a
:class:`~desktop_app.frame_provider.FrameProvider` that decodes on its own thread; the GUI thread only
wraps arrays as images and paints them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QSignalBlocker, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.project.scan import count_frames
from core.video import VideoMetadata
from desktop_app.common.fit_label import FitLabel
from desktop_app.common.icons import standard_icon
from desktop_app.jobs import Worker
from desktop_app.player.frame_provider import FrameProvider
from desktop_app.player.frame_view import FrameView
from desktop_app.player.timeline import TimelineWidget
from desktop_app.player.timeline_zoom import TimelineZoomBar

SPEEDS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


def format_time(seconds: float) -> str:
    """``mm:ss.mmm`` (``h:mm:ss.mmm`` past an hour)."""
    ms = round(max(0.0, seconds) * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h}:{m:02d}:{s:02d}.{ms:03d}" if h else f"{m:02d}:{s:02d}.{ms:03d}"


class PlayerWidget(QWidget):
    """Shows one video; see the module docstring. Frame indices are 0-based."""

    position_changed = Signal(int)
    playing_changed = Signal(bool)
    video_loaded = Signal(object)  # VideoMetadata
    frame_count_changed = Signal(int)
    speed_changed = Signal(float)
    load_failed = Signal(object)  # exception

    def __init__(self, parent: QWidget | None = None, cache_size: int = 48, read_ahead: int = 12) -> None:
        super().__init__(parent)
        self.provider = FrameProvider(cache_size=cache_size, read_ahead=read_ahead, parent=self)
        self.view = FrameView(self)
        self.timeline = TimelineWidget(self)
        self.zoom_bar = TimelineZoomBar(self.timeline, self)
        self.path: Path | None = None
        self.metadata: VideoMetadata | None = None
        self.fps = 25.0
        self.frame_count = 0
        self.position = 0  # the frame shown (or about to be)
        self.speed = 1.0
        self.playing = False
        self.frames_shown = 0  # frames painted while playing (benchmarks read this)
        self._shown_index = -1
        self._target = -1
        self._anchor = 0
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._scan: Worker | None = None
        self._build()
        self.provider.frame_ready.connect(self._on_frame_ready)
        self.provider.opened.connect(self._on_opened)
        self.provider.failed.connect(self._on_failed)
        self.provider.out_of_range.connect(self._on_out_of_range)
        self.timeline.seek_requested.connect(self.seek)
        self._update_controls()

    # -- layout -----------------------------------------------------------------------------------
    def _button(self, icon: QStyle.StandardPixmap, tip: str, slot) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(standard_icon(self, icon))
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    def _build(self) -> None:
        sp = QStyle.StandardPixmap
        self.first_button = self._button(sp.SP_MediaSkipBackward, "First frame (Home)", self.go_first)
        self.back10_button = self._button(sp.SP_MediaSeekBackward, "Back 10 frames (Shift+Left)", lambda: self.step(-10))
        self.back_button = self._button(sp.SP_ArrowLeft, "Back 1 frame (Left)", lambda: self.step(-1))
        self.play_button = self._button(sp.SP_MediaPlay, "Play / pause (Space)", self.toggle_play)
        self.fwd_button = self._button(sp.SP_ArrowRight, "Forward 1 frame (Right)", lambda: self.step(1))
        self.fwd10_button = self._button(sp.SP_MediaSeekForward, "Forward 10 frames (Shift+Right)", lambda: self.step(10))
        self.last_button = self._button(sp.SP_MediaSkipForward, "Last frame (End)", self.go_last)
        self.frame_spin = QSpinBox(self)
        self.frame_spin.setToolTip("Frame number (0-based); Ctrl+G to jump to a frame or time")
        self.frame_spin.setKeyboardTracking(False)
        self.frame_spin.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # keys belong to the player unless clicked
        self.frame_spin.editingFinished.connect(lambda: self.view.setFocus())
        self.frame_spin.setMinimumWidth(80)
        self.frame_spin.valueChanged.connect(self.seek)
        self.count_label = QLabel("/ 0", self)
        self.time_label = QLabel("00:00.000 / 00:00.000", self)
        self.time_label.setObjectName("timecode")
        self.speed_box = QComboBox(self)
        self.speed_box.setToolTip("Playback speed ([ slower, ] faster)")
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}x", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(lambda i: self.set_speed(SPEEDS[i]))
        # The size/fps note is the first thing to give way when the window is narrow (e.g. 1280 wide
        # with both docks open); the transport controls keep their room.
        self.info_label = FitLabel("", self)
        self.info_label.setObjectName("videoInfo")
        self.info_label.setToolTip("Frame size and frame rate")
        self.info_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

        transport = QHBoxLayout()
        transport.setContentsMargins(4, 0, 4, 0)
        transport.setSpacing(2)
        for w in (self.first_button, self.back10_button, self.back_button, self.play_button, self.fwd_button,
                  self.fwd10_button, self.last_button):
            transport.addWidget(w)
        transport.addSpacing(12)
        transport.addWidget(QLabel("Frame", self))
        transport.addWidget(self.frame_spin)
        transport.addWidget(self.count_label)
        transport.addSpacing(12)
        transport.addWidget(self.time_label)
        transport.addStretch(1)
        transport.addWidget(self.info_label)
        transport.addSpacing(12)
        transport.addWidget(QLabel("Speed", self))
        transport.addWidget(self.speed_box)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.timeline)
        layout.addWidget(self.zoom_bar)
        layout.addLayout(transport)

    # -- loading ----------------------------------------------------------------------------------
    def load(self, path: str | Path, fps: float | None = None, frame_count: int | None = None) -> None:
        """Show ``path`` (a file or an image folder) from frame 0.

        ``frame_count`` is the number of frames known to decode (from the project); without it the
        player starts from the header's count and scans the video in a worker for the exact one.
        """
        self.pause()
        self.unload()
        self.path = Path(path)
        self._known_count = frame_count
        self._fps_override = fps
        self.position = 0
        self._shown_index = -1
        self._target = -1
        self.provider.open(self.path, fps=fps)
        self.view.placeholder = f"Opening {self.path.name}..."
        self.view.set_frame(None)

    def unload(self) -> None:
        self.pause()
        if self._scan is not None:
            self._scan.cancel()
            self._scan = None
        self.provider.close()
        self.path = None
        self.metadata = None
        self.frame_count = 0
        self.position = 0
        self._shown_index = -1
        self.timeline.set_frame_count(0)
        self.timeline.set_position(0)
        self.view.placeholder = "No video"
        self.view.set_frame(None)
        self.info_label.setText("")
        # Nothing of the previous video may stay on screen (e.g. when the next one cannot be opened).
        with QSignalBlocker(self.frame_spin):
            self.frame_spin.setMaximum(0)
            self.frame_spin.setValue(0)
        self.count_label.setText("/ 0")
        self.time_label.setText(f"{format_time(0.0)} / {format_time(0.0)}")
        self._update_controls()
        self.position_changed.emit(0)

    @Slot(object)
    def _on_opened(self, metadata: VideoMetadata) -> None:
        self.metadata = metadata
        self.fps = metadata.fps if metadata.fps > 0 else 25.0
        count = self._known_count or metadata.frame_count or metadata.declared_frame_count
        self._set_frame_count(count)
        self.info_label.setText(f"{metadata.width}x{metadata.height}  {self.fps:.4g} fps")
        self.info_label.setToolTip(self.info_label.text())  # whole, when the window is too narrow for it
        if not self._known_count and self.path is not None:
            scan = Worker(count_frames, self.path, self._fps_override, name="scan")
            scan.finished.connect(self._on_scanned)
            scan.error.connect(lambda exc: None)  # the player reports decoding errors itself
            self._scan = scan.start()
        self.video_loaded.emit(metadata)
        self.seek(0, force=True)

    def _on_scanned(self, count: int) -> None:
        self._scan = None
        if count and count != self.frame_count:
            self._set_frame_count(count)

    def _set_frame_count(self, count: int) -> None:
        self.frame_count = max(0, int(count))
        self.timeline.set_frame_count(self.frame_count)
        with QSignalBlocker(self.frame_spin):
            self.frame_spin.setMaximum(max(0, self.frame_count - 1))
        self.count_label.setText(f"/ {max(0, self.frame_count - 1)}")
        if self.position >= self.frame_count > 0:
            self.seek(self.frame_count - 1)
        self._update_controls()
        self.frame_count_changed.emit(self.frame_count)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self.pause()
        if self.metadata is None:
            self.view.placeholder = f"Cannot open {self.path.name if self.path else 'video'}"
            self.view.set_frame(None)
        self.load_failed.emit(exc)

    @Slot(int)
    def _on_out_of_range(self, index: int) -> None:
        if 0 < index < self.frame_count:
            self._set_frame_count(index)
        if self.playing:
            self.pause()

    # -- navigation -------------------------------------------------------------------------------
    @property
    def has_video(self) -> bool:
        return self.metadata is not None and self.frame_count > 0

    def seek(self, frame: int, force: bool = False) -> None:
        """Show frame ``frame`` (clamped to the video); while playing, playback continues from there."""
        if not self.provider.is_open:
            return
        last = max(0, self.frame_count - 1)
        frame = max(0, min(last, int(frame)))
        if frame == self.position and frame == self._shown_index and not force:
            return
        self.position = frame
        self._target = frame
        if self.playing:
            self._anchor = frame
            self._clock.restart()
        self._publish_position()
        cached = self.provider.request(frame)
        if cached is not None:
            self._show(frame, cached)

    def seek_seconds(self, seconds: float) -> None:
        self.seek(round(seconds * self.fps))

    def step(self, delta: int) -> None:
        """Move ``delta`` frames (negative: back); pauses playback first."""
        if self.playing:
            self.pause()
        self.seek(self.position + delta)

    def go_first(self) -> None:
        self.step(-self.position)

    def go_last(self) -> None:
        self.step(self.frame_count - 1 - self.position)

    # -- playback ---------------------------------------------------------------------------------
    def play(self) -> None:
        if self.playing or not self.has_video:
            return
        if self.position >= self.frame_count - 1:
            self.seek(0)
        self.playing = True
        self._anchor = self.position
        self._clock.start()
        self.frames_shown = 0
        self.provider.set_playing(True)
        self._timer.start(self._tick_ms())
        self._update_controls()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self._timer.stop()
        self.provider.set_playing(False)
        if self._shown_index >= 0:
            self.position = self._shown_index
            self._target = self._shown_index
            self._publish_position()
        self._update_controls()
        self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def set_speed(self, speed: float) -> None:
        speed = float(min(SPEEDS[-1], max(SPEEDS[0], speed)))
        if speed == self.speed:
            return
        if self.playing:  # re-anchor so the clock does not jump
            self._anchor = max(self._shown_index, 0)
            self._clock.restart()
        self.speed = speed
        if self.playing:
            self._timer.setInterval(self._tick_ms())
        nearest = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
        with QSignalBlocker(self.speed_box):
            self.speed_box.setCurrentIndex(nearest)
        self.speed_changed.emit(speed)

    def faster(self) -> None:
        bigger = [s for s in SPEEDS if s > self.speed]
        if bigger:
            self.set_speed(bigger[0])

    def slower(self) -> None:
        smaller = [s for s in SPEEDS if s < self.speed]
        if smaller:
            self.set_speed(smaller[-1])

    def _tick_ms(self) -> int:
        period = 1000.0 / (self.fps * self.speed)
        return max(4, int(period / 3))

    @Slot()
    def _tick(self) -> None:
        due = self._anchor + int(self._clock.nsecsElapsed() * 1e-9 * self.fps * self.speed)
        last = self.frame_count - 1
        if due >= last:
            due = last
        if due != self._target:
            self._target = due
            frame = self.provider.request(due)
            if frame is not None:
                self._show(due, frame)
        if self._shown_index >= last:
            self.pause()

    @Slot(int, object)
    def _on_frame_ready(self, index: int, frame: np.ndarray) -> None:
        if self.playing:
            if self._shown_index < index <= self._target:  # late but still in order: show it, never go back
                self._show(index, frame)
        elif index == self._target:
            self._show(index, frame)

    def _show(self, index: int, frame: np.ndarray) -> None:
        self._shown_index = index
        self.view.set_frame(frame)
        if self.playing:
            self.frames_shown += 1
            self.position = index
            self._publish_position()

    def _publish_position(self) -> None:
        frame = self.position
        seconds = frame / self.fps if self.fps else 0.0
        total = max(0, self.frame_count - 1) / self.fps if self.fps else 0.0
        with QSignalBlocker(self.frame_spin):
            self.frame_spin.setValue(frame)
        self.time_label.setText(f"{format_time(seconds)} / {format_time(total)}")
        self.view.set_caption(f"#{frame}  {format_time(seconds)}")
        self.timeline.set_position(frame)
        self.position_changed.emit(frame)

    def _update_controls(self) -> None:
        enabled = self.has_video
        for w in (self.first_button, self.back10_button, self.back_button, self.play_button, self.fwd_button,
                  self.fwd10_button, self.last_button, self.frame_spin, self.speed_box):
            w.setEnabled(enabled)
        icon = QStyle.StandardPixmap.SP_MediaPause if self.playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(standard_icon(self, icon))

    @property
    def shown_index(self) -> int:
        """The frame actually painted now (-1 before the first)."""
        return self._shown_index

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.unload()
        super().closeEvent(event)
