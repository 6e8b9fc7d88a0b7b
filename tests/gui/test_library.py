"""The video library: adding, importing, exporting, removing and relinking videos; videos that cannot open."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from core.video import open_video
from desktop_app.jobs import error_dialog
from tests.gui.window_driver import Answer, key, make_clip, menu_action, open_and_wait, wait_frame


def test_corrupt_video_gives_an_error_dialog_and_the_app_stays_up(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.state.project.add_subclip(window.state.video_id, 0, 5, label="walk")
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(os.urandom(4096))
    window.library.drop_paths([bad])
    qtbot.waitUntil(lambda: bool(error_dialog.shown), timeout=10000)
    assert "corrupt.mp4" in error_dialog.shown[-1].text
    assert error_dialog.shown[-1].expected
    assert len(window.state.project.videos) == 1 and len(window.state.project.subclips) == 1  # work kept
    # a video of the project that went bad on disk: the player reports it, the window lives on
    good = next(iter(window.state.project.videos.values()))
    good.path.write_bytes(b"\x00" * 2048)
    window.state.video_id = None
    window.library.select_video(good.id)
    qtbot.waitUntil(lambda: len(error_dialog.shown) >= 2, timeout=10000)
    assert window.isVisible() and window.state.project is not None


def test_add_videos_by_drop_and_frame_folder(qtbot, make_window, project_dir, tmp_path, ped2) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    second = make_clip(tmp_path / "second.avi", frames=12)
    frames = tmp_path / "frames"
    frames.mkdir()
    for name in sorted(os.listdir(ped2 / "testing" / "01"))[:8]:
        (frames / name).symlink_to(ped2 / "testing" / "01" / name)
    window.library.drop_paths([second, frames])
    qtbot.waitUntil(lambda: len(window.state.project.videos) == 3, timeout=15000)
    kinds = sorted(v.kind for v in window.state.project.videos.values())
    assert kinds == ["file", "file", "image_sequence"]
    assert window.video_list.topLevelItemCount() == 3
    qtbot.waitUntil(lambda: all(window.video_list.has_thumbnail(i) for i in window.video_list.video_ids()),
                    timeout=10000)
    window.library.undo()
    assert len(window.state.project.videos) == 1


def test_import_ucsd_layout_with_progress(qtbot, make_window, tmp_path, ped2) -> None:
    root = tmp_path / "ucsd"
    for split, n in (("training", 12), ("testing", 12)):
        folder = root / split / "01"
        folder.mkdir(parents=True)
        for name in sorted(os.listdir(ped2 / split / "01"))[:n]:
            (folder / name).symlink_to(ped2 / split / "01" / name)
    (root / "testing" / "gt.m").write_text("TestVideoFile = {};\nTestVideoFile{end+1}.gt_frame = [5:12];\n")
    window = make_window()
    assert window.library.new_project_path(tmp_path / "imported")
    worker = window.library.import_ucsd_path(root) or window.state.jobs[-1]
    qtbot.waitUntil(lambda: worker.is_done, timeout=20000)
    assert worker.exception is None, worker.exception
    assert len(window.state.project.videos) == 2
    assert [(i.start, i.end) for i in window.state.project.intervals.values()] == [(4, 12)]
    assert window.video_list.topLevelItemCount() == 2


def test_export_subclips_writes_files_and_can_be_cancelled(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.state.project.add_subclip(window.state.video_id, 2, 9, label="walk")
    window.state.project.add_subclip(window.state.video_id, 20, 30, label="bike")
    out = tmp_path / "export"
    worker = window.library.export_subclips_to(out)
    qtbot.waitUntil(lambda: worker.is_done, timeout=30000)
    assert worker.exception is None, worker.exception
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4"))
    assert files == ["unsplit/bike/levels.avi_000020-000030.mp4", "unsplit/walk/levels.avi_000002-000009.mp4"]
    cancelled = window.library.export_subclips_to(tmp_path / "export2")
    cancelled.cancel()
    qtbot.waitUntil(lambda: cancelled.is_done, timeout=30000)
    assert cancelled.cancelled or cancelled.exception is None



def test_export_asks_before_replacing_files_and_no_leaves_them(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.state.project.add_subclip(window.state.video_id, 2, 9, label="walk")
    window.state.project.add_subclip(window.state.video_id, 20, 30, label="bike")
    out = tmp_path / "export"
    earlier = out / "unsplit" / "walk" / "levels.avi_000002-000009.mp4"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"an earlier export the analyst edited")
    questions: list[tuple[str, object]] = []

    def answer_with(button):
        def ask(title, text, buttons, default):
            questions.append((text, default))
            return button
        return ask

    window.state.ask = answer_with(Answer.No)
    assert window.library.export_subclips_to(out) is None  # nothing started
    assert len(questions) == 1 and "levels.avi_000002-000009.mp4" in questions[0][0]
    assert questions[0][1] == Answer.No  # the safe choice is the default
    assert earlier.read_bytes() == b"an earlier export the analyst edited"
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["levels.avi_000002-000009.mp4"]

    window.state.ask = answer_with(Answer.Yes)
    worker = window.library.export_subclips_to(out)
    qtbot.waitUntil(lambda: worker.is_done, timeout=30000)
    assert worker.exception is None, worker.exception
    assert len(questions) == 2
    assert open_video(earlier).frame_count == 7
    assert (out / "unsplit" / "bike" / "levels.avi_000020-000030.mp4").exists()
    window.state.ask = lambda *a, **k: Answer.Discard  # closing the window asks about unsaved edits


def test_import_class_folders(qtbot, make_window, tmp_path) -> None:
    root = tmp_path / "classes"
    frames = iter(range(8, 20))  # different lengths: no two files are duplicates
    for split, label, n in (("train", "walk", 2), ("train", "bike", 1), ("test", "walk", 1)):
        (root / split / label).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            make_clip(root / split / label / f"{label}{i}.avi", frames=next(frames))
    window = make_window()
    assert window.library.new_project_path(tmp_path / "p")
    window.library.import_class_folders_path(root)
    worker = window.state.jobs[-1]
    qtbot.waitUntil(lambda: worker.is_done, timeout=20000)
    assert worker.exception is None, worker.exception
    assert len(window.state.project.videos) == 4
    assert sorted(c.label for c in window.state.project.subclips.values()) == ["bike", "walk", "walk", "walk"]
    assert set(window.state.project.classes) == {"walk", "bike"}
    assert window.label_panel._class_buttons.keys() == {"walk", "bike"}


def test_a_video_that_cannot_open_leaves_nothing_of_the_previous_one_on_screen(qtbot, make_window, project_dir,
                                                                                tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    other = make_clip(tmp_path / "other.avi", frames=12)
    window.library.add_video_paths([other])
    qtbot.waitUntil(lambda: len(window.state.project.videos) == 2 and window.player.shown_index == 0, timeout=10000)
    window.player.seek(7)
    wait_frame(qtbot, window, 7)
    first = next(v for v in window.state.project.videos.values() if v.name != "other.avi")
    first.path.write_bytes(os.urandom(4096))
    window.library.select_video(first.id)
    qtbot.waitUntil(lambda: bool(error_dialog.shown), timeout=10000)
    player = window.player
    assert not player.has_video
    assert player.count_label.text() == "/ 0" and player.frame_spin.value() == 0
    assert player.time_label.text() == "00:00.000 / 00:00.000"
    assert window.status_position.text() == first.name


def test_video_list_menu_removes_a_video_and_relinks_a_moved_one(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    video = next(iter(window.state.project.videos.values()))
    window.state.project.add_subclip(video.id, 0, 5, label="walk")
    # remove from the menu: video, its labels, the player; Ctrl+Z brings them back
    menu = window.video_list.context_menu([video.id])
    remove, relink = menu_action(menu, "removeVideos"), menu_action(menu, "relinkVideo")
    assert relink.isEnabled()
    remove.trigger()
    assert window.state.project.videos == {} and window.state.project.subclips == {}
    assert window.state.video_id is None and not window.player.has_video
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert video.id in window.state.project.videos and len(window.state.project.subclips) == 1
    qtbot.waitUntil(lambda: window.state.video_id == video.id and window.player.shown_index == 0, timeout=10000)
    # the file moves away: relink finds it by the file chosen, and the player shows it again
    moved = tmp_path / "moved.avi"
    video.path.rename(moved)
    window.state.choose_files = lambda *a: [moved]  # type: ignore[method-assign]
    menu_action(window.video_list.context_menu([video.id]), "relinkVideo").trigger()
    assert window.state.project.videos[video.id].path == moved
    qtbot.waitUntil(lambda: window.player.path == moved and window.player.shown_index == 0, timeout=10000)
    # another file's content is used only when the analyst says so
    other = make_clip(tmp_path / "other.avi", frames=12)
    window.state.ask = lambda *a, **k: Answer.No  # type: ignore[method-assign]
    assert not window.library.relink_video_path(video.id, other)
    assert window.state.project.videos[video.id].path == moved
    window.state.ask = lambda *a, **k: Answer.Yes  # type: ignore[method-assign]
    assert window.library.relink_video_path(video.id, other)
    assert window.state.project.videos[video.id].path == other
    assert menu_action(window.video_list.context_menu([video.id]), "relinkVideo").isEnabled()
    assert not menu_action(window.video_list.context_menu(["a", "b"]), "relinkVideo").isEnabled()
