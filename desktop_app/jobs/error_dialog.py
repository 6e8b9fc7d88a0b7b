"""One place that tells the user something went wrong.

:func:`show_error` shows a :class:`~core.errors.FramewatchError` as its plain message (it already names
the file and the problem) and any other exception as "unexpected error" with the traceback folded
away under *Show Details...*. :func:`install_excepthook` routes exceptions raised in Qt slots to the
same dialog, so a bug in one handler shows a dialog instead of ending the app and losing work.

Tests set :data:`DIALOGS_BLOCK` to ``False``: dialogs are then shown without a nested event loop and
recorded in :data:`shown`, so a test can assert that an error was reported.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from core.errors import Cancelled, FramewatchError

#: When False, dialogs open non-modally and return at once (offscreen tests).
DIALOGS_BLOCK = True


@dataclass
class ShownError:
    title: str
    text: str
    details: str
    expected: bool


#: Every error shown in this process, oldest first.
shown: list[ShownError] = []
#: The dialogs currently open when not blocking (kept alive here).
_open: list[QMessageBox] = []


def describe(exc: BaseException) -> tuple[str, str, bool]:
    """``(summary, details, expected)`` for an exception: expected ones are FramewatchErrors."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, FramewatchError):
        return str(exc), details, True
    text = f"An unexpected error occurred: {type(exc).__name__}: {exc}".rstrip(": ")
    return text + "\n\nYour project is still open; save it and report the details below.", details, False


def show_error(parent: QWidget | None, exc: BaseException, title: str = "Framewatch") -> ShownError | None:
    """Show ``exc`` in a dialog; ``Cancelled`` is not an error and shows nothing."""
    if isinstance(exc, Cancelled):
        return None
    text, details, expected = describe(exc)
    record = ShownError(title, text, details, expected)
    shown.append(record)
    if QApplication.instance() is None:  # no GUI (e.g. during shutdown): print instead
        print(f"{title}: {text}\n{details}", file=sys.stderr)
        return record
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if expected else QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(text)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if not expected:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    if DIALOGS_BLOCK:
        box.exec()
    else:
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _=0, b=box: _open.remove(b) if b in _open else None)
        _open.append(box)
        box.show()
    return record


def close_open_dialogs() -> None:
    """Close the non-blocking dialogs left open (tests)."""
    for box in list(_open):
        box.close()
    _open.clear()


_parent_getter: Callable[[], QWidget | None] = lambda: QApplication.activeWindow()  # noqa: E731
_previous_hook = sys.excepthook
_reporting = False


def install_excepthook(parent_getter: Callable[[], QWidget | None] | None = None) -> None:
    """Show uncaught exceptions (from slots and event handlers) in a dialog and keep running."""
    global _parent_getter
    if parent_getter is not None:
        _parent_getter = parent_getter
    sys.excepthook = _excepthook


def uninstall_excepthook() -> None:
    sys.excepthook = _previous_hook


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    global _reporting
    if issubclass(kind, KeyboardInterrupt):
        _previous_hook(kind, exc, tb)
        return
    traceback.print_exception(kind, exc, tb, file=sys.stderr)
    if _reporting:  # an error while showing an error: do not recurse
        return
    _reporting = True
    try:
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        show_error(_parent_getter(), exc)
    finally:
        _reporting = False
