"""Many void Qt calls do not exhaust None's reference count (PySide6 6.12 on Python 3.11)."""

from __future__ import annotations

import sys

from PySide6.QtGui import QColor, QImage, QPainter

import desktop_app  # noqa: F401 - applies the fix on import


def test_twenty_thousand_void_calls_leave_none_alive(qapp) -> None:
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(20_000):  # more than None's whole reference count without the fix
        painter.setPen(QColor("red"))
    painter.end()
    assert sys.getrefcount(None) > 1000
    assert before > 20_000
