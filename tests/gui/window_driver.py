"""Helpers that drive the main window as a user would, shared by the GUI tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop_app.shell.main_window import MainWindow

Answer = QMessageBox.StandardButton
FRAMES = 40


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
    qtbot.keyClick(window, k, modifier)


def wait_frame(qtbot, window: MainWindow, frame: int) -> None:
    qtbot.waitUntil(lambda: window.player.shown_index == frame, timeout=5000)
