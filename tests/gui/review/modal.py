"""Answering a real (blocking) message box from a test, as a user would: one click on OK."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def click_ok_on_next_box() -> list[str]:
    """Click OK on the next modal message box once it opens; returns the list its text is put in."""
    clicked: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            clicked.append(box.text())
            box.button(QMessageBox.StandardButton.Ok).click()
        else:
            QTimer.singleShot(50, answer)

    QTimer.singleShot(50, answer)
    return clicked
