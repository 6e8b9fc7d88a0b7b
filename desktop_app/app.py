"""Start the desktop application."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from PySide6.QtWidgets import QApplication

from desktop_app.main_window import MainWindow


def run(argv: Sequence[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(list(argv or sys.argv))
    app.setApplicationName("Framewatch")
    app.setOrganizationName("Framewatch")
    window = MainWindow()
    window.show()
    return app.exec()
