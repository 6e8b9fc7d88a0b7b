"""The window driver's key presses reach the window's shortcuts after a job's progress dialog has come and gone."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog

from tests.gui.window_driver import key, open_and_wait


def test_a_shortcut_works_after_a_progress_dialog_closed(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    dialog = QProgressDialog("Adding videos", "Cancel", 0, 0, window)  # as a job's, shown under load
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.show()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.close()
    project = window.state.project
    project.add_class("run", color="#009e73", shortcut="3")
    assert "run" in project.classes
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Undo
    qtbot.waitUntil(lambda: "run" not in project.classes)
