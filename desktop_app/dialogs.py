"""Small dialogs: keyboard shortcuts, go to frame or time, numeric value."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.actions import shortcut_rows


class ShortcutsDialog(QDialog):
    """Help > Keyboard shortcuts: every action with a key, generated from the action registry."""

    def __init__(self, extra: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(560, 640)
        rows = shortcut_rows(extra)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Group", "Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setShowGrid(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        return [tuple(self.table.item(r, c).text() for c in range(3)) for r in range(self.table.rowCount())]


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


class ValueDialog(QDialog):
    """Ask for a numeric value of a target (range shown, checked by the project on apply)."""

    def __init__(self, targets: list[tuple[str, float, float, str]], parent: QWidget | None = None,
                 current: float | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Numeric Value")
        self.targets = targets
        from PySide6.QtWidgets import QComboBox

        self.target_box = QComboBox(self)
        for name, lo, hi, unit in targets:
            self.target_box.addItem(f"{name}  [{lo:g}, {hi:g}]{' ' + unit if unit else ''}", name)
        self.edit = QLineEdit("" if current is None else f"{current:g}", self)
        self.edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Target:", self.target_box)
        form.addRow("Value:", self.edit)
        form.addRow(buttons)
        self.edit.setFocus()

    def value(self) -> tuple[str, float] | None:
        try:
            return self.target_box.currentData(), float(self.edit.text().replace(",", "."))
        except (TypeError, ValueError):
            return None
