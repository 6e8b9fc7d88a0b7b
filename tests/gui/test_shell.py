"""The window shell: error dialogs, shortcuts, go-to, keyboard focus, size, toolbar and status bar."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.common.actions import ACTIONS
from desktop_app.jobs import error_dialog
from desktop_app.player.goto_dialog import parse_position
from desktop_app.shell.shortcuts_dialog import ShortcutsDialog
from tests.conftest import REPO
from tests.gui.window_driver import key, make_clip, open_and_wait, wait_frame


def test_an_exception_in_a_slot_shows_a_dialog(qtbot, make_window, project_dir) -> None:
    window = make_window()
    error_dialog.install_excepthook(lambda: window)
    try:
        sys.excepthook(RuntimeError, RuntimeError("boom"), None)
    finally:
        error_dialog.uninstall_excepthook()
    assert error_dialog.shown[-1].text.startswith("An unexpected error occurred: RuntimeError: boom")
    assert not error_dialog.shown[-1].expected
    assert window.isVisible()


def test_shortcuts_dialog_lists_every_shortcut_and_class_keys(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    dialog = ShortcutsDialog(window.labelling.class_shortcut_rows(), window)
    qtbot.addWidget(dialog)
    rows = dialog.rows()
    actions = {r[1] for r in rows}
    for s in ACTIONS:
        if s.shortcuts:
            assert s.text.replace("&", "").rstrip(".") in actions
    assert any("'bike'" in r[1] and r[2] == "2" for r in rows)
    keys = [k for s in ACTIONS for k in s.shortcuts]
    assert len(keys) == len(set(keys)), "two actions share a shortcut"


def test_go_to_parses_frames_and_times() -> None:
    assert parse_position("120", 25) == 120
    assert parse_position("2.5s", 10) == 25
    assert parse_position("1:02.5", 10) == 625
    assert parse_position("1:00:00", 1) == 3600
    assert parse_position("abc", 25) is None


@pytest.mark.qt_no_exception_capture
def test_an_exception_raised_in_a_real_slot_shows_a_dialog(qtbot, make_window) -> None:
    window = make_window()
    error_dialog.install_excepthook(lambda: window)
    try:
        def broken() -> None:
            raise ValueError("slot failed")

        window.player.speed_changed.connect(broken)
        window.player.set_speed(2.0)  # the signal calls the broken slot
    finally:
        error_dialog.uninstall_excepthook()
    assert error_dialog.shown and "ValueError: slot failed" in error_dialog.shown[-1].text
    assert "Traceback" in error_dialog.shown[-1].details
    assert window.isVisible()


def test_go_to_dialog_and_command_line(qtbot) -> None:
    from desktop_app.player.goto_dialog import GoToDialog
    from desktop_app.shell.app import parse_args

    dialog = GoToDialog(fps=10, frame_count=180, current=0)
    qtbot.addWidget(dialog)
    dialog.edit.setText("6.5s")
    assert dialog.frame() == 65
    dialog.edit.setText("500")
    assert dialog.frame() is None
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    args = parse_args(["some/project", "--demo"])
    assert args.project == Path("some/project") and args.demo


def test_user_guide_lists_every_shortcut() -> None:
    guide = (REPO / "docs" / "user-guide.md").read_text(encoding="utf-8")
    table = guide[guide.index("## Keyboard shortcuts"):]
    for s in ACTIONS:
        if s.shortcuts:
            names = {"Return": "Enter", "\\": "\\"}
            assert any(names.get(k, k) in table for k in s.shortcuts), f"{s.key} ({s.shortcuts}) missing from the guide"


def test_keys_reach_the_player_from_whatever_has_the_focus(qtbot, make_window, project_dir) -> None:
    from PySide6.QtWidgets import QApplication

    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.player.view, timeout=5000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Right)
    wait_frame(qtbot, window, 1)
    for widget in (window.label_panel.subclips, window.video_list):  # lists and tables keep arrows for us
        widget.setFocus()
        qtbot.waitUntil(lambda w=widget: QApplication.focusWidget() is w, timeout=5000)
        before = window.player.shown_index
        qtbot.keyClick(widget, Qt.Key.Key_Right)
        wait_frame(qtbot, window, before + 1)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_I)
    assert window.labelling.in_point == window.player.position


def test_the_window_fits_a_1280x800_screen_with_both_docks(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    assert window.minimumSizeHint().width() <= 1280
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.width() == 1280)
    assert window.player.time_label.isVisible() and window.player.speed_box.isVisible()
    window.resize(1600, 1000)  # room enough: the size/fps note is shown whole
    info = window.player.info_label
    qtbot.waitUntil(lambda: window.width() == 1600)
    assert info.text() and info.width() >= info.sizeHint().width()


def test_toolbar_undo_button_keeps_one_word_and_the_menu_a_short_name(qtbot, make_window, project_dir,
                                                                        tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    folder = tmp_path / "many"
    folder.mkdir()
    clips = [make_clip(folder / f"a_rather_long_camera_name_{n:02d}.avi", frames=3 + n) for n in range(6)]
    window.library.add_video_paths(clips)
    qtbot.waitUntil(lambda: not window.state.jobs and len(window.state.project.videos) == 7, timeout=20000)
    undo = window.actions_by_key["undo"]
    assert undo.iconText() == "Undo"
    assert undo.text().startswith("&Undo Add videos") and len(undo.text()) <= 70
    assert "Undo Add videos" in undo.toolTip() and undo.toolTip().endswith(")")
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.state.project.videos) == 1
    assert window.actions_by_key["redo"].iconText() == "Redo"
    assert window.actions_by_key["undo"].text() == "&Undo"


def test_speed_keys_update_the_status_bar(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    key(qtbot, window, Qt.Key.Key_BracketRight)
    assert window.player.speed == 1.5 and window.status_position.text().endswith("1.5x")
    window.player.speed_box.setCurrentIndex(0)  # the combo box, by mouse
    assert window.status_position.text().endswith("0.25x")
    key(qtbot, window, Qt.Key.Key_Backslash)
    assert window.status_position.text().endswith(" 1x")
