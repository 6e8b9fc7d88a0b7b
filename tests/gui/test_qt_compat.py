"""The installed PySide6 keeps None's reference count balanced across void Qt calls.

PySide6 6.12 on Python 3.11 loses a reference to None on every void call (``setPen``, ``drawLine``...)
and the interpreter aborts after some thousands of paints; pyproject.toml keeps that version out.
This test fails loudly if a broken build is installed anyway.
"""

from __future__ import annotations

import sys

from PySide6.QtGui import QColor, QImage, QPainter


def test_void_qt_calls_do_not_leak_references_to_none(qapp) -> None:
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    if before < 1_000_000:  # an immortal None (Python 3.12+) reports a huge constant count
        for _ in range(2_000):
            painter.setPen(QColor("red"))
            painter.drawLine(0, 0, 4, 4)
        after = sys.getrefcount(None)
        assert abs(after - before) < 500, f"None lost {before - after} references over 4,000 void calls"
    painter.end()
