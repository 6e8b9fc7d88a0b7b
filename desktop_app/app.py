"""Start the desktop application: ``python main.py [PROJECT] [--demo]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from core import __version__


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Framewatch: load, play, cut and label video footage; train and review models.",
        epilog="With no project, the built-in demo (UCSD Ped2) opens. Keyboard shortcuts: Help > Keyboard shortcuts (F1).",
    )
    parser.add_argument("project", nargs="?", type=Path, help="a project folder (or its project.json) to open")
    parser.add_argument("--demo", action="store_true", help="open the built-in demo project (copied to a writable folder)")
    parser.add_argument("--new", type=Path, metavar="FOLDER", help="create a new project in FOLDER and open it")
    parser.add_argument("--empty", action="store_true", help="start without opening any project")
    parser.add_argument("--version", action="version", version=f"Framewatch {__version__}")
    return parser.parse_args(list(argv))


def create_app(argv: Sequence[str] | None = None) -> QApplication:
    from desktop_app.theme import apply_theme

    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("Framewatch")
    app.setOrganizationName("Framewatch")
    app.setApplicationVersion(__version__)
    apply_theme(app)
    return app


def run(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    args = parse_args(argv[1:])
    app = create_app(argv[:1])

    from desktop_app.error_dialog import install_excepthook
    from desktop_app.main_window import MainWindow

    window = MainWindow()
    install_excepthook(lambda: window)
    window.show()

    def open_initial() -> None:
        if args.new is not None:
            window.new_project_path(args.new)
        elif args.project is not None:
            window.open_project_path(args.project)
        elif not args.empty:
            window.open_demo()

    QTimer.singleShot(0, open_initial)
    return app.exec()
