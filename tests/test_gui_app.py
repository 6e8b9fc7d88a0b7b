"""The main window driven like an analyst: open, play, step, cut, label, undo, save, reopen, recover."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from core.project import Project
from desktop_app import demo, error_dialog
from desktop_app.actions import ACTIONS
from desktop_app.dialogs import ShortcutsDialog, parse_position
from desktop_app.main_window import MainWindow

Answer = QMessageBox.StandardButton
FRAMES = 40


def make_clip(path: Path, frames: int = FRAMES, size: tuple[int, int] = (96, 64), fps: float = 25.0) -> Path:
    """A lossless clip whose frame k is a flat gray of level 5*k."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, size)
    for k in range(frames):
        writer.write(np.full((size[1], size[0], 3), 5 * k, np.uint8))
    writer.release()
    return path


@pytest.fixture(autouse=True)
def _non_blocking_dialogs(monkeypatch):
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", False)
    error_dialog.shown.clear()
    yield
    error_dialog.close_open_dialogs()


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    clip = make_clip(tmp_path / "levels.avi")
    project = Project.create(tmp_path / "proj", name="Test project")
    project.add_video(clip)
    project.add_class("walk", color="#56b4e9", shortcut="1")
    project.add_class("bike", color="#e69f00", shortcut="2")
    project.save()
    project.close()
    return project.folder


@pytest.fixture
def make_window(qtbot, tmp_path: Path):
    windows: list[MainWindow] = []

    def make(answer: Answer = Answer.Discard) -> MainWindow:
        settings = QSettings(str(tmp_path / f"settings{len(windows)}.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, autosave_interval_s=3600)
        window.ask = lambda *a, **k: answer  # type: ignore[method-assign]
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        window.activateWindow()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for w in windows:
        w.ask = lambda *a, **k: Answer.Discard  # type: ignore[method-assign]
        w.close()


def open_and_wait(qtbot, window: MainWindow, folder: Path) -> None:
    assert window.open_project_path(folder)
    qtbot.waitUntil(lambda: window.player.has_video and window.player.shown_index == 0, timeout=10000)


def key(qtbot, window: MainWindow, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window, k, modifier)


def wait_frame(qtbot, window: MainWindow, frame: int) -> None:
    qtbot.waitUntil(lambda: window.player.shown_index == frame, timeout=5000)


def test_open_play_step_label_undo_redo_save_reopen(qtbot, make_window, project_dir: Path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    assert "Test project" in window.windowTitle()
    assert not window.isWindowModified()
    vid = window.video_id
    # play at 4x until the end, then step with the keyboard
    window.player.set_speed(4.0)
    key(qtbot, window, Qt.Key.Key_Space)
    assert window.player.playing
    qtbot.waitUntil(lambda: not window.player.playing, timeout=15000)
    assert window.player.shown_index == FRAMES - 1
    key(qtbot, window, Qt.Key.Key_Home)
    wait_frame(qtbot, window, 0)
    key(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    wait_frame(qtbot, window, 10)
    key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_Right)
    wait_frame(qtbot, window, 12)
    key(qtbot, window, Qt.Key.Key_I)
    key(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    key(qtbot, window, Qt.Key.Key_Left)
    wait_frame(qtbot, window, 21)
    key(qtbot, window, Qt.Key.Key_O)
    assert (window.in_point, window.out_end) == (12, 22)
    assert window.player.timeline.in_point == 12
    key(qtbot, window, Qt.Key.Key_2)  # class key: label In..Out as "bike"
    clips = window.project.subclips_of(vid)
    assert [(c.start, c.end, c.label) for c in clips] == [(12, 22, "bike")]
    assert window.span() is None
    assert window.isWindowModified()
    assert [b.label for b in window.player.timeline.bands if b.kind == "subclip"] == ["bike"]
    assert window.label_panel.subclips.rowCount() == 1
    # anomaly interval from In/Out with A
    window.player.seek(30)
    wait_frame(qtbot, window, 30)
    key(qtbot, window, Qt.Key.Key_I)
    window.player.seek(35)
    wait_frame(qtbot, window, 35)
    key(qtbot, window, Qt.Key.Key_O)
    key(qtbot, window, Qt.Key.Key_A)
    assert [(i.start, i.end) for i in window.project.intervals_of(vid)] == [(30, 36)]
    # undo both, redo both
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.project.intervals_of(vid) == []
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.project.subclips_of(vid) == []
    assert window.player.timeline.bands == []
    assert not window.isWindowModified()
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(window.project.subclips_of(vid)) == 1 and len(window.project.intervals_of(vid)) == 1
    # save with Ctrl+S, reopen in a fresh window
    key(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not window.project.dirty and not window.isWindowModified()
    window.close()
    again = make_window()
    open_and_wait(qtbot, again, project_dir)
    assert [(c.start, c.end, c.label) for c in again.project.subclips_of(vid)] == [(12, 22, "bike")]
    assert [(i.start, i.end) for i in again.project.intervals_of(vid)] == [(30, 36)]
    assert {b.kind for b in again.player.timeline.bands} == {"subclip", "anomaly"}
    assert str(project_dir) in again.recent_projects()


def test_enter_uses_the_current_class_and_delete_removes_the_selection(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.choose_class("walk")  # no span: just makes it current
    assert window.label_panel.current_class == "walk"
    assert window.project.subclips == {}
    window.player.seek(5)
    wait_frame(qtbot, window, 5)
    key(qtbot, window, Qt.Key.Key_I)
    window.player.seek(9)
    wait_frame(qtbot, window, 9)
    key(qtbot, window, Qt.Key.Key_O)
    key(qtbot, window, Qt.Key.Key_Return)
    (clip,) = window.project.subclips.values()
    assert (clip.start, clip.end, clip.label) == (5, 10, "walk")
    assert window.selection == ("subclip", clip.id)
    key(qtbot, window, Qt.Key.Key_2)  # relabel the selection
    assert window.project.subclips[clip.id].label == "bike"
    key(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)  # nudge one frame later
    assert (window.project.subclips[clip.id].start, window.project.subclips[clip.id].end) == (6, 11)
    key(qtbot, window, Qt.Key.Key_Delete)
    assert window.project.subclips == {}
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.project.subclips[clip.id].label == "bike"


def test_timeline_drag_and_table_edit_move_a_subclip(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    clip = window.project.add_subclip(window.video_id, 10, 20, label="walk")
    window.player.timeline.band_edited.emit("subclip", clip.id, 15, 25)
    assert (window.project.subclips[clip.id].start, window.project.subclips[clip.id].end) == (15, 25)
    table = window.label_panel.subclips
    assert table.ids() == [clip.id]
    table.item(0, 1).setText("29")  # "Last" column: the end becomes 30
    assert window.project.subclips[clip.id].end == 30
    table.item(0, 1).setText("99")  # past the end of the video: refused with a dialog, table restored
    assert window.project.subclips[clip.id].end == 30
    assert error_dialog.shown and "past the end" in error_dialog.shown[-1].text
    assert table.item(0, 1).text() == "29"
    window.undo()
    window.undo()
    assert (window.project.subclips[clip.id].start, window.project.subclips[clip.id].end) == (10, 20)


def test_unsaved_changes_prompt_on_close(qtbot, make_window, project_dir) -> None:
    window = make_window(answer=Answer.Cancel)
    open_and_wait(qtbot, window, project_dir)
    window.project.add_subclip(window.video_id, 0, 5, label="walk")
    assert window.isWindowModified() and "[*]" in window.windowTitle()
    window.close()
    assert window.isVisible()  # cancelled: still open, edits kept
    window.ask = lambda *a, **k: Answer.Save  # type: ignore[method-assign]
    window.close()
    assert not window.isVisible()
    assert len(Project.open(project_dir).subclips) == 1


def test_recovery_prompt_restores_autosaved_edits(qtbot, make_window, project_dir) -> None:
    project = Project.open(project_dir)
    vid = next(iter(project.videos))
    project.add_subclip(vid, 3, 8, label="walk")
    assert project.autosave()  # a crash now would leave only the autosave
    del project
    window = make_window(answer=Answer.Yes)
    open_and_wait(qtbot, window, project_dir)
    assert [(c.start, c.end) for c in window.project.subclips.values()] == [(3, 8)]
    assert window.project.dirty and window.isWindowModified()

    declined = make_window(answer=Answer.No)
    window.ask = lambda *a, **k: Answer.Discard  # type: ignore[method-assign]
    window.close()
    project = Project.open(project_dir)
    project.add_subclip(vid, 3, 8, label="walk")
    project.autosave()
    del project
    open_and_wait(qtbot, declined, project_dir)
    assert declined.project.subclips == {}
    assert not (project_dir / "project.autosave.json").exists()


def test_corrupt_video_gives_an_error_dialog_and_the_app_stays_up(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.project.add_subclip(window.video_id, 0, 5, label="walk")
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(os.urandom(4096))
    window.drop_paths([bad])
    qtbot.waitUntil(lambda: bool(error_dialog.shown), timeout=10000)
    assert "corrupt.mp4" in error_dialog.shown[-1].text
    assert error_dialog.shown[-1].expected
    assert len(window.project.videos) == 1 and len(window.project.subclips) == 1  # work kept
    # a video of the project that went bad on disk: the player reports it, the window lives on
    good = next(iter(window.project.videos.values()))
    good.path.write_bytes(b"\x00" * 2048)
    window.video_id = None
    window.select_video(good.id)
    qtbot.waitUntil(lambda: len(error_dialog.shown) >= 2, timeout=10000)
    assert window.isVisible() and window.project is not None


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


def test_add_videos_by_drop_and_frame_folder(qtbot, make_window, project_dir, tmp_path, ped2) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    second = make_clip(tmp_path / "second.avi", frames=12)
    frames = tmp_path / "frames"
    frames.mkdir()
    for name in sorted(os.listdir(ped2 / "testing" / "01"))[:8]:
        (frames / name).symlink_to(ped2 / "testing" / "01" / name)
    window.drop_paths([second, frames])
    qtbot.waitUntil(lambda: len(window.project.videos) == 3, timeout=15000)
    kinds = sorted(v.kind for v in window.project.videos.values())
    assert kinds == ["file", "file", "image_sequence"]
    assert window.video_list.topLevelItemCount() == 3
    qtbot.waitUntil(lambda: all(window.video_list.has_thumbnail(i) for i in window.video_list.video_ids()),
                    timeout=10000)
    window.undo()
    assert len(window.project.videos) == 1


def test_import_ucsd_layout_with_progress(qtbot, make_window, tmp_path, ped2) -> None:
    root = tmp_path / "ucsd"
    for split, n in (("training", 12), ("testing", 12)):
        folder = root / split / "01"
        folder.mkdir(parents=True)
        for name in sorted(os.listdir(ped2 / split / "01"))[:n]:
            (folder / name).symlink_to(ped2 / split / "01" / name)
    (root / "testing" / "gt.m").write_text("TestVideoFile = {};\nTestVideoFile{end+1}.gt_frame = [5:12];\n")
    window = make_window()
    assert window.new_project_path(tmp_path / "imported")
    worker = window.import_ucsd_path(root) or window._jobs[-1]
    qtbot.waitUntil(lambda: worker.is_done, timeout=20000)
    assert worker.exception is None, worker.exception
    assert len(window.project.videos) == 2
    assert [(i.start, i.end) for i in window.project.intervals.values()] == [(4, 12)]
    assert window.video_list.topLevelItemCount() == 2


def test_export_subclips_writes_files_and_can_be_cancelled(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.project.add_subclip(window.video_id, 2, 9, label="walk")
    window.project.add_subclip(window.video_id, 20, 30, label="bike")
    out = tmp_path / "export"
    worker = window.export_subclips_to(out)
    qtbot.waitUntil(lambda: worker.is_done, timeout=30000)
    assert worker.exception is None, worker.exception
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4"))
    assert files == ["unsplit/bike/levels.avi_000020-000030.mp4", "unsplit/walk/levels.avi_000002-000009.mp4"]
    cancelled = window.export_subclips_to(tmp_path / "export2")
    cancelled.cancel()
    qtbot.waitUntil(lambda: cancelled.is_done, timeout=30000)
    assert cancelled.cancelled or cancelled.exception is None


def test_schema_editor_edits_are_undoable(qtbot, make_window, project_dir) -> None:
    from desktop_app.schema_editor import SchemaEditor

    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    editor = SchemaEditor(window.project, window)
    qtbot.addWidget(editor)
    assert editor.classes.rowCount() == 2
    assert editor.add_class("cart")
    assert window.project.classes["cart"].shortcut == "3"
    assert "cart" in window.label_panel._class_buttons
    editor.classes.item(0, 2).setText("2")  # key already used by "bike": refused
    assert window.project.classes["walk"].shortcut == "1"
    assert error_dialog.shown and "already used" in error_dialog.shown[-1].text
    assert editor.set_class_color("walk", "#123456")
    assert editor.add_target("rating", 0, 5)
    window.undo()
    window.undo()
    assert "rating" not in window.project.targets
    assert window.project.classes["walk"].color == "#56b4e9"


def test_numeric_value_for_a_subclip(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.project.add_target("rating", 0, 10)
    window.player.seek(4)
    wait_frame(qtbot, window, 4)
    window.set_in()
    window.apply_value("rating", 7.5)
    (clip,) = window.project.subclips.values()
    assert (clip.start, clip.end, clip.value, clip.target) == (4, 5, 7.5, "rating")
    window.apply_value("rating", 11)  # out of range: a dialog, nothing changes
    assert window.project.subclips[clip.id].value == 7.5
    assert "outside its range" in error_dialog.shown[-1].text


def test_shortcuts_dialog_lists_every_shortcut_and_class_keys(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    dialog = ShortcutsDialog(window.class_shortcut_rows(), window)
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


def test_demo_opens_from_a_read_only_install(qtbot, make_window, tmp_path, monkeypatch) -> None:
    install = tmp_path / "install"
    import shutil

    shutil.copytree(demo.DEMO_DIR, install)
    for p in [install, *install.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    user = tmp_path / "user"
    monkeypatch.setattr(demo, "user_demo_dir", lambda: user)
    monkeypatch.setattr(demo, "DEMO_DIR", install)
    monkeypatch.setattr(demo.ensure_demo_project, "__defaults__", (None, install))
    window = make_window()
    assert window.open_demo()
    qtbot.waitUntil(lambda: window.player.has_video and window.player.shown_index == 0, timeout=10000)
    assert window.project.folder == user / "project"
    names = sorted(v.name for v in window.project.videos.values())
    assert names == ["ped2_test01", "ped2_train01", "ped2_train02"]
    test01 = next(v for v in window.project.videos.values() if v.name == "ped2_test01")
    assert test01.frame_count == 180
    assert [(i.start, i.end) for i in window.project.intervals_of(test01.id)] == [(60, 180)]
    window.project.add_subclip(test01.id, 0, 10, label="walking")
    assert window.save_project()  # the copy is writable
    for p in [install, *install.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_save_as_copies_the_project_and_recent_menu_lists_it(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.project.add_subclip(window.video_id, 1, 4, label="walk")
    copy = tmp_path / "copy"
    assert window.save_project_as_path(copy)
    assert window.project.folder == copy and not window.project.dirty
    reopened = Project.open(copy)
    assert [(c.start, c.end, c.label) for c in reopened.subclips.values()] == [(1, 4, "walk")]
    assert window.recent_projects()[:2] == [str(copy), str(project_dir)]
    window._fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert any(str(copy) in t for t in texts)


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


def test_import_class_folders(qtbot, make_window, tmp_path) -> None:
    root = tmp_path / "classes"
    frames = iter(range(8, 20))  # different lengths: no two files are duplicates
    for split, label, n in (("train", "walk", 2), ("train", "bike", 1), ("test", "walk", 1)):
        (root / split / label).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            make_clip(root / split / label / f"{label}{i}.avi", frames=next(frames))
    window = make_window()
    assert window.new_project_path(tmp_path / "p")
    window.import_class_folders_path(root)
    worker = window._jobs[-1]
    qtbot.waitUntil(lambda: worker.is_done, timeout=20000)
    assert worker.exception is None, worker.exception
    assert len(window.project.videos) == 4
    assert sorted(c.label for c in window.project.subclips.values()) == ["bike", "walk", "walk", "walk"]
    assert set(window.project.classes) == {"walk", "bike"}
    assert window.label_panel._class_buttons.keys() == {"walk", "bike"}


def test_class_keys_cannot_take_an_action_key(qtbot, make_window, project_dir) -> None:
    from desktop_app.schema_editor import SchemaEditor, reserved_keys

    assert {"I", "O", "A", "V"} <= set(reserved_keys())
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    editor = SchemaEditor(window.project, window)
    qtbot.addWidget(editor)
    editor.classes.item(0, 2).setText("a")
    assert window.project.classes["walk"].shortcut == "1"
    assert "taken by 'Mark Anomaly Interval'" in error_dialog.shown[-1].text
    editor.classes.item(0, 2).setText("w")
    assert window.project.classes["walk"].shortcut == "w"


def test_go_to_dialog_and_command_line(qtbot) -> None:
    from desktop_app.app import parse_args
    from desktop_app.dialogs import GoToDialog

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
    guide = (Path(__file__).resolve().parent.parent / "docs" / "user-guide.md").read_text(encoding="utf-8")
    table = guide[guide.index("## Keyboard shortcuts"):]
    for s in ACTIONS:
        if s.shortcuts:
            names = {"Return": "Enter", "\\": "\\"}
            assert any(names.get(k, k) in table for k in s.shortcuts), f"{s.key} ({s.shortcuts}) missing from the guide"


def test_a_project_that_cannot_open_leaves_the_open_one_untouched(qtbot, make_window, project_dir, tmp_path) -> None:
    asked: list[str] = []
    window = make_window()
    window.ask = lambda title, *a, **k: asked.append(title) or Answer.Discard  # type: ignore[method-assign]
    open_and_wait(qtbot, window, project_dir)
    window.project.add_subclip(window.video_id, 0, 5, label="walk")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "project.json").write_text('{"format": "framewatch-project", "version": 1, "videos": [')
    assert not window.open_project_path(broken)
    assert asked == []  # nothing was asked: the broken project never got that far
    assert "broken" in error_dialog.shown[-1].text and window.project.folder == project_dir
    assert window.project.dirty and len(window.project.subclips) == 1
    assert not window.new_project_path(project_dir)  # a project exists there: refused after Discard
    assert window.project.dirty and not window._discard_on_close
    window.ask = lambda *a, **k: Answer.Cancel  # type: ignore[method-assign]
    window.close()
    assert window.isVisible()  # still asks about the unsaved edits


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
    assert window.in_point == window.player.position


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
    window.add_video_paths(clips)
    qtbot.waitUntil(lambda: not window._jobs and len(window.project.videos) == 7, timeout=20000)
    undo = window.actions_by_key["undo"]
    assert undo.iconText() == "Undo"
    assert undo.text().startswith("&Undo Add videos") and len(undo.text()) <= 70
    assert "Undo Add videos" in undo.toolTip() and undo.toolTip().endswith(")")
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.project.videos) == 1
    assert window.actions_by_key["redo"].iconText() == "Redo"
    assert window.actions_by_key["undo"].text() == "&Undo"


def test_an_empty_label_schema_says_how_to_add_classes(qtbot, make_window, tmp_path) -> None:
    window = make_window()
    assert window.new_project_path(tmp_path / "empty", "Empty")
    window.add_video_paths([make_clip(tmp_path / "clip.avi")])
    qtbot.waitUntil(lambda: window.player.has_video and window.player.shown_index == 0, timeout=10000)
    hint = window.label_panel.no_classes
    assert hint.isVisible() and hint.isEnabled() and "Ctrl+L" in hint.text()
    key(qtbot, window, Qt.Key.Key_I)
    key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_O)
    key(qtbot, window, Qt.Key.Key_Return)
    assert [s.label for s in window.project.subclips.values()] == [None]
    assert "without a class" in window.statusBar().currentMessage()
    window.project.add_class("walk", shortcut="1")
    assert not hint.isVisible()
    assert list(window.label_panel._class_buttons) == ["walk"]
    window.project.undo()
    assert hint.isVisible()


def test_a_video_that_cannot_open_leaves_nothing_of_the_previous_one_on_screen(qtbot, make_window, project_dir,
                                                                                tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    other = make_clip(tmp_path / "other.avi", frames=12)
    window.add_video_paths([other])
    qtbot.waitUntil(lambda: len(window.project.videos) == 2 and window.player.shown_index == 0, timeout=10000)
    window.player.seek(7)
    wait_frame(qtbot, window, 7)
    first = next(v for v in window.project.videos.values() if v.name != "other.avi")
    first.path.write_bytes(os.urandom(4096))
    window.select_video(first.id)
    qtbot.waitUntil(lambda: bool(error_dialog.shown), timeout=10000)
    player = window.player
    assert not player.has_video
    assert player.count_label.text() == "/ 0" and player.frame_spin.value() == 0
    assert player.time_label.text() == "00:00.000 / 00:00.000"
    assert window.status_position.text() == first.name


def test_speed_keys_update_the_status_bar(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    key(qtbot, window, Qt.Key.Key_BracketRight)
    assert window.player.speed == 1.5 and window.status_position.text().endswith("1.5x")
    window.player.speed_box.setCurrentIndex(0)  # the combo box, by mouse
    assert window.status_position.text().endswith("0.25x")
    key(qtbot, window, Qt.Key.Key_Backslash)
    assert window.status_position.text().endswith(" 1x")


def test_opening_a_video_file_as_a_project_says_what_to_do(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    clip = make_clip(tmp_path / "clip.avi")
    assert not window.open_project_path(clip)
    text = error_dialog.shown[-1].text
    assert "clip.avi" in text and "not a project" in text and "Add Videos" in text
    assert window.project.folder == project_dir


def test_ctrl_right_and_left_visit_every_band_including_one_at_frame_0(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    project, vid = window.project, window.video_id
    first = project.add_subclip(vid, 0, 5, label="walk")
    anomaly = project.add_interval(vid, 10, 15)
    second = project.add_subclip(vid, 10, 20, label="bike")
    ctrl = Qt.KeyboardModifier.ControlModifier
    visited = []
    for _ in range(4):
        key(qtbot, window, Qt.Key.Key_Right, ctrl)
        visited.append((window.selection, window.player.position))
    assert visited == [(("subclip", first.id), 0), (("anomaly", anomaly.id), 10),
                       (("subclip", second.id), 10), (("subclip", second.id), 10)]
    key(qtbot, window, Qt.Key.Key_Left, ctrl)
    assert window.selection == ("anomaly", anomaly.id)
    key(qtbot, window, Qt.Key.Key_Left, ctrl)
    assert (window.selection, window.player.position) == (("subclip", first.id), 0)


def test_video_list_menu_removes_a_video_and_relinks_a_moved_one(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    video = next(iter(window.project.videos.values()))
    window.project.add_subclip(video.id, 0, 5, label="walk")
    # remove from the menu: video, its labels, the player; Ctrl+Z brings them back
    menu = window.video_list.context_menu([video.id])
    remove, relink = menu.actions()
    assert relink.isEnabled()
    remove.trigger()
    assert window.project.videos == {} and window.project.subclips == {}
    assert window.video_id is None and not window.player.has_video
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert video.id in window.project.videos and len(window.project.subclips) == 1
    qtbot.waitUntil(lambda: window.video_id == video.id and window.player.shown_index == 0, timeout=10000)
    # the file moves away: relink finds it by the file chosen, and the player shows it again
    moved = tmp_path / "moved.avi"
    video.path.rename(moved)
    window.choose_files = lambda *a: [moved]  # type: ignore[method-assign]
    window.video_list.context_menu([video.id]).actions()[1].trigger()
    assert window.project.videos[video.id].path == moved
    qtbot.waitUntil(lambda: window.player.path == moved and window.player.shown_index == 0, timeout=10000)
    # another file's content is used only when the analyst says so
    other = make_clip(tmp_path / "other.avi", frames=12)
    window.ask = lambda *a, **k: Answer.No  # type: ignore[method-assign]
    assert not window.relink_video_path(video.id, other)
    assert window.project.videos[video.id].path == moved
    window.ask = lambda *a, **k: Answer.Yes  # type: ignore[method-assign]
    assert window.relink_video_path(video.id, other)
    assert window.project.videos[video.id].path == other
    assert len(window.video_list.context_menu([video.id, video.id]).actions()) == 2
    assert not window.video_list.context_menu(["a", "b"]).actions()[1].isEnabled()


def test_undo_and_redo_keys_work_inside_the_schema_editor(qtbot, make_window, project_dir) -> None:
    from desktop_app.schema_editor import SchemaEditor

    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.project.add_subclip(window.video_id, 0, 5, label="walk")
    editor = SchemaEditor(window.project, window)
    qtbot.addWidget(editor)
    editor.setWindowModality(Qt.WindowModality.ApplicationModal)  # as exec() shows it
    editor.show()
    qtbot.waitExposed(editor)
    editor.activateWindow()
    qtbot.waitUntil(lambda: editor.isActiveWindow())
    editor.classes.setCurrentCell(0, 0)
    assert editor.remove_selected_class()  # a slip: the class and its label are gone
    assert "walk" not in window.project.classes and editor.classes.rowCount() == 1
    qtbot.keyClick(editor.classes, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "walk" in window.project.classes and editor.classes.rowCount() == 2
    assert [s.label for s in window.project.subclips.values()] == ["walk"]
    qtbot.keyClick(editor.classes, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert "walk" not in window.project.classes and editor.classes.rowCount() == 1


def test_renaming_the_current_class_keeps_it_current(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.choose_class("bike")
    window.project.rename_class("bike", "cycle")
    assert window.label_panel.current_class == "cycle"
    key(qtbot, window, Qt.Key.Key_I)
    key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_O)
    key(qtbot, window, Qt.Key.Key_Return)
    assert [s.label for s in window.project.subclips.values()] == ["cycle"]
    window.project.remove_class("walk")
    assert window.label_panel.current_class == "cycle"
