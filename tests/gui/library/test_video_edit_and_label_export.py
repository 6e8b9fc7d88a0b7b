"""Editing a video's name, split and frame rate from the Videos list; exporting labels as CSV and JSON."""

from __future__ import annotations

import csv
import json

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu

from desktop_app.jobs import error_dialog
from desktop_app.library.video_dialog import VideoDialog
from tests.gui.window_driver import Answer, BoxClicker, menu_action, open_and_wait
from tests.video_factory import write_images


class DialogFiller:
    """When the video dialog opens (blocking), type into it like the analyst and press OK (or Cancel)."""

    def __init__(self, qtbot, name: str | None = None, split: str | None = "keep", fps: float | None = None,
                 ok: bool = True) -> None:
        self.qtbot, self.name, self.split, self.fps, self.ok = qtbot, name, split, fps, ok
        self.seen: list[VideoDialog] = []
        self.fps_enabled: bool | None = None
        QTimer.singleShot(0, self._poll)

    def _poll(self) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, VideoDialog):
            QTimer.singleShot(10, self._poll)
            return
        self.seen.append(dialog)
        self.fps_enabled = dialog.fps_spin.isEnabled()
        if self.name is not None:
            dialog.name_edit.setText(self.name)
        if self.split != "keep":
            dialog.split_box.setCurrentIndex(dialog.split_box.findData(self.split))
        if self.fps is not None and dialog.fps_spin.isEnabled():
            dialog.fps_spin.setValue(self.fps)
        which = QDialogButtonBox.StandardButton.Ok if self.ok else QDialogButtonBox.StandardButton.Cancel
        dialog.buttons.button(which).click()


def edit_from_context_menu(window, video_id: str) -> None:
    action = menu_action(window.video_list.context_menu([video_id]), "editVideo")
    assert action.isEnabled()
    action.trigger()


def test_edit_name_split_and_folder_fps_from_the_videos_list_and_undo(qtbot, make_window, project_dir,
                                                                      tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    project = window.state.project
    folder = project.add_video(write_images(tmp_path / "Train001", 8, width=32, height=24), fps=10)
    file_id = window.state.video_id
    original = (project.videos[file_id].name, project.videos[file_id].split)
    # a video file: name and split change; its frame rate cannot
    filler = DialogFiller(qtbot, name="Gate camera", split="test", fps=50)
    edit_from_context_menu(window, file_id)
    assert filler.seen and filler.fps_enabled is False
    video = project.videos[file_id]
    assert (video.name, video.split, video.fps) == ("Gate camera", "test", 25.0)
    row = window.video_list.topLevelItem(0).text(0).splitlines()
    assert row[0] == "Gate camera" and row[2].startswith("test ·")
    # an image folder shown in the player: its frame rate changes, and the player's times follow
    window.library.select_video(folder.id)
    qtbot.waitUntil(lambda: window.player.has_video and window.player.path == folder.path, timeout=10000)
    assert window.player.fps == 10
    filler = DialogFiller(qtbot, fps=5)
    edit_from_context_menu(window, folder.id)
    assert filler.fps_enabled is True and project.videos[folder.id].fps == 5
    qtbot.waitUntil(lambda: window.player.has_video and window.player.fps == 5, timeout=10000)
    # every edit is undoable with the Edit menu
    window.actions_by_key["undo"].trigger()
    assert project.videos[folder.id].fps == 10
    window.actions_by_key["undo"].trigger()
    assert (project.videos[file_id].name, project.videos[file_id].split) == original
    # Cancel changes nothing; the Set Split submenu sets the split of several videos at once
    DialogFiller(qtbot, name="Not this", ok=False)
    edit_from_context_menu(window, file_id)
    assert project.videos[file_id].name != "Not this"
    menu = window.video_list.context_menu([file_id, folder.id])
    split_menu = menu.findChild(QMenu, "setSplit")
    (val,) = [a for a in split_menu.actions() if a.text() == "val"]
    val.trigger()
    assert {project.videos[i].split for i in (file_id, folder.id)} == {"val"}


def test_a_refused_name_ends_in_one_dismissable_box(qtbot, make_window, project_dir, tmp_path, monkeypatch) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    project = window.state.project
    other = project.add_video(write_images(tmp_path / "frames", 4, width=32, height=24), fps=10)
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)
    clicker = BoxClicker(qtbot)
    clicker.start()
    DialogFiller(qtbot, name="frames")  # taken by the other video
    edit_from_context_menu(window, window.state.video_id)
    qtbot.waitUntil(lambda: clicker.clicks == 1, timeout=10000)
    assert "already called 'frames'" in clicker.text
    assert project.videos[other.id].name == "frames" and window.isVisible()


def test_export_labels_as_csv_and_json_from_the_file_menu(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window(answer=Answer.No)
    open_and_wait(qtbot, window, project_dir)
    project, vid = window.state.project, window.state.video_id
    project.add_subclip(vid, 2, 9, label="walk", note="first")
    project.add_interval(vid, 20, 30)
    out = tmp_path / "labels"
    window.state.choose_folder = lambda _title: out  # type: ignore[method-assign]
    window.actions_by_key["export_labels_csv"].trigger()
    assert window.state.jobs  # it runs in a worker
    qtbot.waitUntil(lambda: not window.state.jobs, timeout=10000)
    rows = list(csv.DictReader((out / "subclips.csv").read_text().splitlines()))
    assert [(r["start"], r["end"], r["label"], r["note"]) for r in rows] == [("2", "9", "walk", "first")]
    assert (out / "intervals.csv").is_file() and "Exported labels" in window.statusBar().currentMessage()
    # again: the analyst is asked first; "No" leaves the files alone
    project.add_subclip(vid, 12, 15, label="bike")
    assert window.library.export_labels_csv_to(out) is None
    assert len(list(csv.DictReader((out / "subclips.csv").read_text().splitlines()))) == 1
    window.state.ask = lambda *a, **k: Answer.Yes  # type: ignore[method-assign]
    window.library.export_labels_csv_to(out)
    qtbot.waitUntil(lambda: not window.state.jobs, timeout=10000)
    assert len(list(csv.DictReader((out / "subclips.csv").read_text().splitlines()))) == 2
    # JSON: a name without a suffix gets .json
    window.state.choose_save_file = lambda _title, _filters: tmp_path / "all"  # type: ignore[method-assign]
    window.actions_by_key["export_labels_json"].trigger()
    qtbot.waitUntil(lambda: not window.state.jobs, timeout=10000)
    doc = json.loads((tmp_path / "all.json").read_text())
    assert len(doc["subclips"]) == 2 and doc["intervals"][0]["start"] == 20


def test_exporting_json_over_the_project_file_ends_in_one_dismissable_box(qtbot, make_window, project_dir,
                                                                          monkeypatch) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.state.ask = lambda *a, **k: Answer.Yes  # type: ignore[method-assign]
    monkeypatch.setattr(error_dialog, "DIALOGS_BLOCK", True)
    clicker = BoxClicker(qtbot)
    clicker.start()
    window.library.export_labels_json_to(window.state.project.path)
    qtbot.waitUntil(lambda: not window.state.jobs and clicker.clicks == 1, timeout=20000)
    assert "project file" in clicker.text and clicker.progress_visible == []
    assert json.loads(window.state.project.path.read_text())  # still the project, not an export
