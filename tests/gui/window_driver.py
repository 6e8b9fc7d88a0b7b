"""Helpers that drive the main window as a user would, shared by the GUI tests."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app.jobs import JobProgress
from desktop_app.player import TimelineWidget
from desktop_app.shell.main_window import MainWindow

Answer = QMessageBox.StandardButton
FRAMES = 40
#: How long a :class:`BoxClicker` waits for its box, in seconds: a loaded machine may take a while.
CLICKER_PATIENCE_S = 120.0


def make_clip(path: Path, frames: int = FRAMES, size: tuple[int, int] = (96, 64), fps: float = 25.0) -> Path:
    """A lossless clip whose frame k is a flat gray of level 5*k."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, size)
    for k in range(frames):
        writer.write(np.full((size[1], size[0], 3), 5 * k, np.uint8))
    writer.release()
    return path


def open_and_wait(qtbot, window: MainWindow, folder: Path) -> None:
    assert window.library.open_project_path(folder)
    qtbot.waitUntil(lambda: window.player.has_video and window.player.shown_index == 0, timeout=10000)


def key(qtbot, window: MainWindow, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Press ``k`` in ``window`` as a user would: in the active window, where its shortcuts work.

    A job's progress dialog shows when the job outlasts its minimum duration (often, on a loaded
    machine); once it closes, the offscreen platform activates no window, where a desktop's window
    manager would give the main window back, and a shortcut pressed then does nothing. With no modal
    dialog open, the window is activated first, as a click on it would.
    """
    if not window.isActiveWindow() and QApplication.activeModalWidget() is None:
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, k, modifier)


def wait_frame(qtbot, window: MainWindow, frame: int) -> None:
    qtbot.waitUntil(lambda: window.player.shown_index == frame, timeout=5000)


class BoxClicker:
    """Waits for a modal message box, notes which progress dialogs are visible then, clicks its OK once."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.clicks = 0
        self.progress_visible: list[JobProgress] | None = None
        self.text = ""
        self._give_up_at = 0.0

    def start(self) -> None:
        self._give_up_at = time.monotonic() + CLICKER_PATIENCE_S
        QTimer.singleShot(0, self._poll)

    def _poll(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if time.monotonic() < self._give_up_at:  # else give up: the test then fails on clicks == 0
                QTimer.singleShot(10, self._poll)
            return
        self.progress_visible = [w for w in QApplication.topLevelWidgets()
                                 if isinstance(w, JobProgress) and w.isVisible()]
        self.text = box.text()
        self.clicks += 1
        self.qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)


def make_timeline(qtbot, frames: int, bands=()) -> TimelineWidget:
    """A shown timeline on its own with a 1000-pixel track over ``frames`` frames."""
    widget = TimelineWidget()
    qtbot.addWidget(widget)
    widget.resize(TimelineWidget.LABEL_W + 16 + 1000, widget.sizeHint().height())
    widget.set_frame_count(frames)
    widget.set_bands(list(bands))
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def menu_action(menu, name: str):
    """The action of ``menu`` whose ``objectName`` is ``name``."""
    (action,) = [a for a in menu.actions() if a.objectName() == name]
    return action


def no_device_listing(monkeypatch, window) -> None:
    """The Training dock, shown, lists the backend's devices in a worker thread; not what these tests are
    about, and a process whose TensorFlow listed devices in one thread and then loads models in others
    has crashed in later tests (TensorFlow, not the app's code)."""
    monkeypatch.setattr(window.training.panel, "detect_devices", lambda: None)
