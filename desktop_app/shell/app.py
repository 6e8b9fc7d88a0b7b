"""Start the desktop application: ``python main.py [PROJECT | VIDEO] [--demo]`` (or ``python -m desktop_app``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core import __version__
from core.video.image_sequence import IMAGE_EXTENSIONS


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Framewatch: load, play, cut and label video footage; train and review models.",
        epilog="With no project, the built-in demo (UCSD Ped2) opens. A bare video (or image folder) opens in a "
        "new scratch project; File > Save As keeps it. Keyboard shortcuts: Help > Keyboard shortcuts (F1).",
    )
    parser.add_argument("project", nargs="?", type=Path, metavar="PROJECT_OR_VIDEO",
                        help="a project folder (or its project.json) to open, or a video file or image folder "
                        "to open in a new scratch project")
    parser.add_argument("--demo", action="store_true", help="open the built-in demo project (copied to a writable folder)")
    parser.add_argument("--new", type=Path, metavar="FOLDER", help="create a new project in FOLDER and open it")
    parser.add_argument("--empty", action="store_true", help="start without opening any project")
    parser.add_argument("--version", action="version", version=f"Framewatch {__version__}")
    return parser.parse_args(list(argv))


@dataclass(frozen=True)
class Startup:
    """What the window opens first: ``kind`` with its ``path`` (None for the demo and an empty window)."""

    kind: Literal["new", "project", "video", "demo", "empty"]
    path: Path | None = None


def is_project_path(path: Path) -> bool:
    """A project folder (holding project.json) or a project.json file."""
    return path.name == "project.json" or (path / "project.json").is_file()


def startup_choice(args: argparse.Namespace) -> Startup:
    """Decide what to open from the command line.

    A path that is a project opens as one; an existing file, or a folder holding images, is a bare
    video and opens in a scratch project; anything else is tried as a project, whose error names it.
    """
    if args.new is not None:
        return Startup("new", args.new)
    path: Path | None = args.project
    if path is not None:
        if is_project_path(path):
            return Startup("project", path)
        if path.is_file() or (path.is_dir() and any(
                p.suffix.lower() in IMAGE_EXTENSIONS for p in path.iterdir() if p.is_file())):
            return Startup("video", path)
        return Startup("project", path)
    return Startup("empty") if args.empty and not args.demo else Startup("demo")


def create_app(argv: Sequence[str] | None = None):
    from PySide6.QtWidgets import QApplication

    from desktop_app.jobs import install_gui_garbage_collector
    from desktop_app.shell.theme import apply_theme

    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    install_gui_garbage_collector(app)  # reference cycles holding Qt objects die on the GUI thread
    app.setApplicationName("Framewatch")
    app.setOrganizationName("Framewatch")
    app.setApplicationVersion(__version__)
    apply_theme(app)
    return app


def open_startup(window, choice: Startup) -> bool:
    """Open ``choice`` in ``window`` (a :class:`~desktop_app.shell.main_window.MainWindow`); errors show a dialog."""
    if choice.kind == "new":
        return window.library.new_project_path(choice.path)
    if choice.kind == "project":
        return window.library.open_project_path(choice.path)
    if choice.kind == "video":
        return window.library.open_video_path(choice.path)
    if choice.kind == "demo":
        return window.library.open_demo()
    return True


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (program name first), check that a window can open, and run the app until it quits.

    Without the X libraries Qt's xcb plugin needs (or without a display) Qt would abort with a core
    dump; instead one line names what is missing and how to install it, and the exit status is 2.
    """
    argv = list(sys.argv if argv is None else argv)
    args = parse_args(argv[1:])
    from desktop_app.shell.display_check import display_problem

    problem = display_problem(argv=argv)
    if problem is not None:
        print(f"framewatch: {problem}", file=sys.stderr)
        return 2
    app = create_app(argv[:1])

    from PySide6.QtCore import QTimer

    from desktop_app.jobs import install_excepthook
    from desktop_app.shell.main_window import MainWindow

    window = MainWindow()
    install_excepthook(lambda: window)
    window.show()
    choice = startup_choice(args)
    QTimer.singleShot(0, lambda: open_startup(window, choice))
    return app.exec()


def main() -> int:
    """The ``framewatch-gui`` entry point and ``python -m desktop_app``."""
    return run(sys.argv)
