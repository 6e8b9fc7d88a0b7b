"""The main window."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow

from core import __version__


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(f"Framewatch {__version__}")
        self.setCentralWidget(QLabel("Framewatch"))
        self.resize(1280, 800)
