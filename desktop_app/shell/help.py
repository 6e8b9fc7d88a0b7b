"""The Help menu: the keyboard shortcuts list and the About box."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from core import __version__
from desktop_app.shell.shortcuts_dialog import ShortcutsDialog


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
