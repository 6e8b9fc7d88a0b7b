"""A one-line label that elides its text instead of widening its window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel


class FitLabel(QLabel):
    """A one-line label that shrinks to nothing: its text is elided ("360x2...") rather than clipped,
    and too narrow for a few characters it shows nothing rather than a lone "..."."""

    def minimumSizeHint(self):  # noqa: N802 - Qt override
        hint = super().minimumSizeHint()
        hint.setWidth(0)
        return hint

    MIN_SHOWN = 4  # characters before the ellipsis

    def visible_text(self) -> str:
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())
        return "" if text != self.text() and len(text) <= self.MIN_SHOWN else text

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment()), self.visible_text())
        painter.end()
