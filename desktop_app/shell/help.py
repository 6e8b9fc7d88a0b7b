"""The Help menu: the user guide, the keyboard shortcuts list and the About box."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMessageBox, QWidget

from core import __version__
from desktop_app.common.resource_files import GUIDE_IN_CHECKOUT, user_guide
from desktop_app.shell.shortcuts_dialog import ShortcutsDialog
from desktop_app.state import AppState


def open_user_guide(state: AppState) -> bool:
    """Help > User Guide: open the guide (a Markdown file, from the checkout or installed with the package)
    with the desktop's program for it (``state.open_url``); where none opens it, or the guide is missing,
    say where it is (``state.ask``, one OK button). ``True`` when a program was started."""
    guide = user_guide()
    ok = QMessageBox.StandardButton.Ok
    if not guide.is_file():
        state.ask("User guide", f"The user guide is not installed with this copy of Framewatch ({guide} is "
                  f"missing): it is {GUIDE_IN_CHECKOUT.as_posix()} in Framewatch's source tree.", ok, ok)
        return False
    if state.open_url(QUrl.fromLocalFile(str(guide))):
        state.show_status(f"Opened the user guide: {guide}", 8000)
        return True
    state.ask("User guide", f"No program here opens Markdown files. The user guide is {guide} "
              "(a text file: any editor or Markdown viewer shows it).", ok, ok)
    return False


def show_shortcuts(parent: QWidget, class_rows: list[tuple[str, str, str]]) -> None:
    """Help > Keyboard Shortcuts: every action's keys, plus ``class_rows`` (the project's class keys)."""
    ShortcutsDialog(class_rows, parent).exec()


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, "About Framewatch",
                      f"<b>Framewatch {__version__}</b><p>Cut and label footage, train spatiotemporal models "
                      "(Model menu), score footage for anomalies and review the flagged events (Review menu), "
                      "watch predicted frames beside the real ones and a classifier's segments on the "
                      "timeline, all in this window; the <tt>framewatch</tt> command does the same without "
                      "it, and evaluates models.</p><p>Demo footage: UCSD Anomaly "
                      "Detection Dataset, Ped2 (Mahadevan et al., CVPR 2010).</p>")
