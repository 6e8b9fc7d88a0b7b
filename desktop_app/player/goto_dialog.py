"""Go to a frame number or a time (Playback > Go to, Ctrl+G)."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

_TIME = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)$")


def parse_position(text: str, fps: float) -> int | None:
    """A frame index from what the analyst typed.

    ``"120"`` is frame 120; ``"12.5s"`` is 12.5 seconds; ``"1:02.5"`` is 62.5 seconds; ``"1:00:00"`` is an
    hour. Returns ``None`` for anything else.
    """
    text = text.strip().lower().replace(",", ".")
    if not text:
        return None
    if text.endswith("s"):
        try:
            return round(float(text[:-1].strip()) * fps)
        except ValueError:
            return None
    if text.isdigit():
        return int(text)
    m = _TIME.match(text)
    if not m or ":" not in text:
        return None
    parts = [float(p) for p in text.split(":")]
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return round(seconds * fps)


class GoToDialog(QDialog):
    """Ask for a frame number or a time."""

    def __init__(self, fps: float, frame_count: int, current: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Go to Frame or Time")
        self.fps = fps
        self.frame_count = frame_count
        self.edit = QLineEdit(str(current), self)
        self.edit.selectAll()
        self.edit.setPlaceholderText("frame (120), seconds (12.5s) or time (1:02.5)")
        self.hint = QLabel(f"Frames 0..{max(0, frame_count - 1)} at {fps:g} fps", self)
        self.hint.setStyleSheet("color: palette(mid);")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.edit.textChanged.connect(self._validate)
        form = QFormLayout(self)
        form.addRow("Frame or time:", self.edit)
        form.addRow("", self.hint)
        form.addRow(self.buttons)

    def frame(self) -> int | None:
        k = parse_position(self.edit.text(), self.fps)
        if k is None or not 0 <= k < max(1, self.frame_count):
            return None
        return k

    def _validate(self) -> None:
        ok = self.frame() is not None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
