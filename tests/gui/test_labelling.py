"""Labelling driven like an analyst: step, mark, label, undo, redo, save, reopen; the schema editor."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from desktop_app.jobs import error_dialog
from tests.gui.window_driver import FRAMES, key, make_clip, open_and_wait, wait_frame


def test_open_play_step_label_undo_redo_save_reopen(qtbot, make_window, project_dir: Path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    assert "Test project" in window.windowTitle()
    assert not window.isWindowModified()
    vid = window.state.video_id
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
    assert (window.labelling.in_point, window.labelling.out_end) == (12, 22)
    assert window.player.timeline.in_point == 12
    key(qtbot, window, Qt.Key.Key_2)  # class key: label In..Out as "bike"
    clips = window.state.project.subclips_of(vid)
    assert [(c.start, c.end, c.label) for c in clips] == [(12, 22, "bike")]
    assert window.labelling.span() is None
    assert window.isWindowModified()
    assert [b.text for b in window.player.timeline.bands if b.kind == "subclip"] == ["bike"]
    assert window.label_panel.subclips.rowCount() == 1
    # anomaly interval from In/Out with A
    window.player.seek(30)
    wait_frame(qtbot, window, 30)
    key(qtbot, window, Qt.Key.Key_I)
    window.player.seek(35)
    wait_frame(qtbot, window, 35)
    key(qtbot, window, Qt.Key.Key_O)
    key(qtbot, window, Qt.Key.Key_A)
    assert [(i.start, i.end) for i in window.state.project.intervals_of(vid)] == [(30, 36)]
    # undo both, redo both
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.state.project.intervals_of(vid) == []
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.state.project.subclips_of(vid) == []
    assert window.player.timeline.bands == []
    assert not window.isWindowModified()
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(window.state.project.subclips_of(vid)) == 1 and len(window.state.project.intervals_of(vid)) == 1
    # save with Ctrl+S, reopen in a fresh window
    key(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not window.state.project.dirty and not window.isWindowModified()
    window.close()
    again = make_window()
    open_and_wait(qtbot, again, project_dir)
    assert [(c.start, c.end, c.label) for c in again.state.project.subclips_of(vid)] == [(12, 22, "bike")]
    assert [(i.start, i.end) for i in again.state.project.intervals_of(vid)] == [(30, 36)]
    assert {b.kind for b in again.player.timeline.bands} == {"subclip", "anomaly"}
    assert str(project_dir) in again.library.recent_projects()


def test_enter_uses_the_current_class_and_delete_removes_the_selection(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.labelling.choose_class("walk")  # no span: just makes it current
    assert window.label_panel.current_class == "walk"
    assert window.state.project.subclips == {}
    window.player.seek(5)
    wait_frame(qtbot, window, 5)
    key(qtbot, window, Qt.Key.Key_I)
    window.player.seek(9)
    wait_frame(qtbot, window, 9)
    key(qtbot, window, Qt.Key.Key_O)
    key(qtbot, window, Qt.Key.Key_Return)
    (clip,) = window.state.project.subclips.values()
    assert (clip.start, clip.end, clip.label) == (5, 10, "walk")
    assert window.state.selection == ("subclip", clip.id)
    key(qtbot, window, Qt.Key.Key_2)  # relabel the selection
    assert window.state.project.subclips[clip.id].label == "bike"
    key(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)  # nudge one frame later
    assert (window.state.project.subclips[clip.id].start, window.state.project.subclips[clip.id].end) == (6, 11)
    key(qtbot, window, Qt.Key.Key_Delete)
    assert window.state.project.subclips == {}
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.state.project.subclips[clip.id].label == "bike"


def test_timeline_drag_and_table_edit_move_a_subclip(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    clip = window.state.project.add_subclip(window.state.video_id, 10, 20, label="walk")
    window.player.timeline.band_edited.emit("subclip", clip.id, 15, 25)
    assert (window.state.project.subclips[clip.id].start, window.state.project.subclips[clip.id].end) == (15, 25)
    table = window.label_panel.subclips
    assert table.ids() == [clip.id]
    table.item(0, 1).setText("29")  # "Last" column: the end becomes 30
    assert window.state.project.subclips[clip.id].end == 30
    table.item(0, 1).setText("99")  # past the end of the video: refused with a dialog, table restored
    assert window.state.project.subclips[clip.id].end == 30
    assert error_dialog.shown and "past the end" in error_dialog.shown[-1].text
    assert table.item(0, 1).text() == "29"
    window.library.undo()
    window.library.undo()
    assert (window.state.project.subclips[clip.id].start, window.state.project.subclips[clip.id].end) == (10, 20)


def test_schema_editor_edits_are_undoable(qtbot, make_window, project_dir) -> None:
    from desktop_app.labelling.schema_editor import SchemaEditor

    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    editor = SchemaEditor(window.state.project, window)
    qtbot.addWidget(editor)
    assert editor.classes.rowCount() == 2
    assert editor.add_class("cart")
    assert window.state.project.classes["cart"].shortcut == "3"
    assert "cart" in window.label_panel._class_buttons
    editor.classes.item(0, 2).setText("2")  # key already used by "bike": refused
    assert window.state.project.classes["walk"].shortcut == "1"
    assert error_dialog.shown and "already used" in error_dialog.shown[-1].text
    assert editor.set_class_color("walk", "#123456")
    assert editor.add_target("rating", 0, 5)
    window.library.undo()
    window.library.undo()
    assert "rating" not in window.state.project.targets
    assert window.state.project.classes["walk"].color == "#56b4e9"


def test_numeric_value_for_a_subclip(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.state.project.add_target("rating", 0, 10)
    window.player.seek(4)
    wait_frame(qtbot, window, 4)
    window.labelling.set_in()
    window.labelling.apply_value("rating", 7.5)
    (clip,) = window.state.project.subclips.values()
    assert (clip.start, clip.end, clip.value, clip.target) == (4, 5, 7.5, "rating")
    window.labelling.apply_value("rating", 11)  # out of range: a dialog, nothing changes
    assert window.state.project.subclips[clip.id].value == 7.5
    assert "outside its range" in error_dialog.shown[-1].text


def test_class_keys_cannot_take_an_action_key(qtbot, make_window, project_dir) -> None:
    from desktop_app.labelling.schema_editor import SchemaEditor, reserved_keys

    assert {"I", "O", "A", "V"} <= set(reserved_keys())
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    editor = SchemaEditor(window.state.project, window)
    qtbot.addWidget(editor)
    editor.classes.item(0, 2).setText("a")
    assert window.state.project.classes["walk"].shortcut == "1"
    assert "taken by 'Mark Anomaly Interval'" in error_dialog.shown[-1].text
    editor.classes.item(0, 2).setText("w")
    assert window.state.project.classes["walk"].shortcut == "w"
    # a key set outside the editor (a project file, another tool): the app's own key wins, and the analyst is told
    window.state.project.update_class("walk", shortcut="c")
    assert "not bound: 'walk' (c is Confirm Event)" in window.statusBar().currentMessage()
    bound = [a for a in window.actions() if a.text() == "Label as walk"]
    assert len(bound) == 1 and bound[0].shortcut().isEmpty()


def test_an_empty_label_schema_says_how_to_add_classes(qtbot, make_window, tmp_path) -> None:
    window = make_window()
    assert window.library.new_project_path(tmp_path / "empty", "Empty")
    window.library.add_video_paths([make_clip(tmp_path / "clip.avi")])
    qtbot.waitUntil(lambda: window.player.has_video and window.player.shown_index == 0, timeout=10000)
    hint = window.label_panel.no_classes
    assert hint.isVisible() and hint.isEnabled() and "Ctrl+L" in hint.text()
    key(qtbot, window, Qt.Key.Key_I)
    key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_O)
    key(qtbot, window, Qt.Key.Key_Return)
    assert [s.label for s in window.state.project.subclips.values()] == [None]
    assert "without a class" in window.statusBar().currentMessage()
    window.state.project.add_class("walk", shortcut="1")
    assert not hint.isVisible()
    assert list(window.label_panel._class_buttons) == ["walk"]
    window.state.project.undo()
    assert hint.isVisible()


def test_ctrl_right_and_left_visit_every_subclip_including_one_at_frame_0(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    project, vid = window.state.project, window.state.video_id
    first = project.add_subclip(vid, 0, 5, label="walk")
    anomaly = project.add_interval(vid, 8, 15)
    second = project.add_subclip(vid, 10, 20, label="bike")
    later = project.add_interval(vid, 30, 35)
    ctrl = Qt.KeyboardModifier.ControlModifier
    visited = []
    for _ in range(3):
        key(qtbot, window, Qt.Key.Key_Right, ctrl)
        visited.append((window.state.selection, window.player.position))
    assert visited == [(("subclip", first.id), 0), (("subclip", second.id), 10),
                       (("subclip", second.id), 10)]  # anomaly intervals are not stops
    key(qtbot, window, Qt.Key.Key_Left, ctrl)
    assert (window.state.selection, window.player.position) == (("subclip", first.id), 0)
    # Ctrl+Shift+Right / Left do the same for anomaly intervals
    shift_ctrl = ctrl | Qt.KeyboardModifier.ShiftModifier
    key(qtbot, window, Qt.Key.Key_Right, shift_ctrl)
    assert (window.state.selection, window.player.position) == (("anomaly", anomaly.id), 8)
    key(qtbot, window, Qt.Key.Key_Right, shift_ctrl)
    assert (window.state.selection, window.player.position) == (("anomaly", later.id), 30)
    key(qtbot, window, Qt.Key.Key_Left, shift_ctrl)
    assert window.state.selection == ("anomaly", anomaly.id)


class ModalWatch:
    """Closes any modal dialog that opens (so a test cannot hang) and remembers its title."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.timer = QTimer()
        self.timer.timeout.connect(self._check)
        self.timer.start(50)

    def _check(self) -> None:
        modal = QApplication.activeModalWidget()
        if modal is not None:
            self.seen.append(modal.windowTitle())
            modal.reject() if hasattr(modal, "reject") else modal.close()


def test_v_without_in_out_or_on_an_interval_is_refused_before_asking(qtbot, make_window, project_dir,
                                                                      monkeypatch) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    project, vid = window.state.project, window.state.video_id
    project.add_target("rating", 0, 10)
    interval = project.add_interval(vid, 5, 10)
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)  # a dialog that opened would block
    watch = ModalWatch()
    key(qtbot, window, Qt.Key.Key_V)  # nothing selected, no In/Out
    assert watch.seen == [] and "Select a subclip, or set In (I) and Out (O)" in window.statusBar().currentMessage()
    window.state.set_selection(("anomaly", interval.id))
    key(qtbot, window, Qt.Key.Key_V)
    assert watch.seen == [] and "anomaly interval has no value" in window.statusBar().currentMessage()
    assert not project.subclips
    # with In set, V asks (the blocking dialog opens; the watch closes it, and nothing changes)
    window.state.set_selection(None)
    key(qtbot, window, Qt.Key.Key_I)
    key(qtbot, window, Qt.Key.Key_V)
    qtbot.waitUntil(lambda: watch.seen == ["Numeric Value"], timeout=5000)
    watch.timer.stop()
    assert not project.subclips


def test_number_keys_without_classes_point_to_the_schema_editor(qtbot, make_window, tmp_path) -> None:
    window = make_window()
    assert window.library.new_project_path(tmp_path / "empty", "Empty")
    window.library.add_video_paths([make_clip(tmp_path / "clip.avi")])
    qtbot.waitUntil(lambda: window.player.has_video and window.player.shown_index == 0, timeout=10000)
    key(qtbot, window, Qt.Key.Key_3)
    assert "No classes yet" in window.statusBar().currentMessage()
    assert "Label Schema (Ctrl+L)" in window.statusBar().currentMessage()
    window.statusBar().clearMessage()
    window.state.project.add_class("walk", shortcut="1")  # now the keys are the classes'
    key(qtbot, window, Qt.Key.Key_3)
    assert window.statusBar().currentMessage() == ""
    key(qtbot, window, Qt.Key.Key_1)
    assert window.statusBar().currentMessage() == "Current class: walk"


def test_undo_and_redo_keys_work_inside_the_schema_editor(qtbot, make_window, project_dir) -> None:
    from desktop_app.labelling.schema_editor import SchemaEditor

    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.state.project.add_subclip(window.state.video_id, 0, 5, label="walk")
    editor = SchemaEditor(window.state.project, window)
    qtbot.addWidget(editor)
    editor.setWindowModality(Qt.WindowModality.ApplicationModal)  # as exec() shows it
    editor.show()
    qtbot.waitExposed(editor)
    editor.activateWindow()
    qtbot.waitUntil(lambda: editor.isActiveWindow())
    editor.classes.setCurrentCell(0, 0)
    assert editor.remove_selected_class()  # a slip: the class and its label are gone
    assert "walk" not in window.state.project.classes and editor.classes.rowCount() == 1
    qtbot.keyClick(editor.classes, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "walk" in window.state.project.classes and editor.classes.rowCount() == 2
    assert [s.label for s in window.state.project.subclips.values()] == ["walk"]
    qtbot.keyClick(editor.classes, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert "walk" not in window.state.project.classes and editor.classes.rowCount() == 1


def test_renaming_the_current_class_keeps_it_current(qtbot, make_window, project_dir) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.labelling.choose_class("bike")
    window.state.project.rename_class("bike", "cycle")
    assert window.label_panel.current_class == "cycle"
    key(qtbot, window, Qt.Key.Key_I)
    key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_O)
    key(qtbot, window, Qt.Key.Key_Return)
    assert [s.label for s in window.state.project.subclips.values()] == ["cycle"]
    window.state.project.remove_class("walk")
    assert window.label_panel.current_class == "cycle"
