"""Answering a real (blocking) message box from a test, as a user would: one click on OK."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def press_ok_on_modal_box(answered: list[str]) -> bool:
    """If a modal message box is open, put its text in ``answered`` and click its OK; whether one was."""
    box = QApplication.activeModalWidget()
    if not isinstance(box, QMessageBox):
        return False
    answered.append(box.text())
    box.button(QMessageBox.StandardButton.Ok).click()
    return True


def click_ok_on_next_box() -> list[str]:
    """Click OK on the next modal message box once it opens; returns the list its text is put in."""
    clicked: list[str] = []

    def answer() -> None:
        if not press_ok_on_modal_box(clicked):
            QTimer.singleShot(50, answer)

    QTimer.singleShot(50, answer)
    return clicked
