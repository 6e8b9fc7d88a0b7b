"""Projects in the main window: save, save as, recent, unsaved-changes and recovery prompts, the demo."""

from __future__ import annotations

import stat

from core.project import Project
from desktop_app.jobs import error_dialog
from desktop_app.library import demo
from tests.gui.window_driver import Answer, make_clip, open_and_wait


def test_unsaved_changes_prompt_on_close(qtbot, make_window, project_dir) -> None:
    window = make_window(answer=Answer.Cancel)
    open_and_wait(qtbot, window, project_dir)
    window.state.project.add_subclip(window.state.video_id, 0, 5, label="walk")
    assert window.isWindowModified() and "[*]" in window.windowTitle()
    window.close()
    assert window.isVisible()  # cancelled: still open, edits kept
    window.state.ask = lambda *a, **k: Answer.Save  # type: ignore[method-assign]
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
    assert [(c.start, c.end) for c in window.state.project.subclips.values()] == [(3, 8)]
    assert window.state.project.dirty and window.isWindowModified()

    declined = make_window(answer=Answer.No)
    window.state.ask = lambda *a, **k: Answer.Discard  # type: ignore[method-assign]
    window.close()
    project = Project.open(project_dir)
    project.add_subclip(vid, 3, 8, label="walk")
    project.autosave()
    del project
    open_and_wait(qtbot, declined, project_dir)
    assert declined.state.project.subclips == {}
    assert not (project_dir / "project.autosave.json").exists()


def test_demo_opens_from_a_read_only_install(qtbot, make_window, tmp_path, monkeypatch) -> None:
    install = tmp_path / "install"
    import shutil

    shutil.copytree(demo.DEMO_DIR, install)
    for p in [install, *install.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    user = tmp_path / "user"
    monkeypatch.setattr(demo, "user_demo_dir", lambda: user)
    monkeypatch.setattr(demo, "DEMO_DIR", install)
    monkeypatch.setattr(demo.ensure_demo_project, "__defaults__", (None, install, None))
    window = make_window()
    assert window.library.open_demo()
    qtbot.waitUntil(lambda: window.player.has_video and window.player.shown_index == 0, timeout=10000)
    assert window.state.project.folder == user / "project"
    names = sorted(v.name for v in window.state.project.videos.values())
    assert names == ["ped2_test01", "ped2_train01", "ped2_train02"]
    test01 = next(v for v in window.state.project.videos.values() if v.name == "ped2_test01")
    assert test01.frame_count == 180
    assert [(i.start, i.end) for i in window.state.project.intervals_of(test01.id)] == [(60, 180)]
    # the demo carries the shipped anomaly model as its only run, chosen for scoring
    assert (user / "project" / "runs" / "ped2-future-frame" / "model.keras").is_file()
    assert window.state.model_run == "ped2-future-frame"
    window.state.project.add_subclip(test01.id, 0, 10, label="walking")
    assert window.library.save_project()  # the copy is writable
    for p in [install, *install.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


def test_save_as_copies_the_project_and_recent_menu_lists_it(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    window.state.project.add_subclip(window.state.video_id, 1, 4, label="walk")
    copy = tmp_path / "copy"
    assert window.library.save_project_as_path(copy)
    assert window.state.project.folder == copy and not window.state.project.dirty
    reopened = Project.open(copy)
    assert [(c.start, c.end, c.label) for c in reopened.subclips.values()] == [(1, 4, "walk")]
    assert window.library.recent_projects()[:2] == [str(copy), str(project_dir)]
    window.library.fill_recent_menu()
    texts = [a.text() for a in window.library.recent_menu.actions()]
    assert any(str(copy) in t for t in texts)


def test_a_project_that_cannot_open_leaves_the_open_one_untouched(qtbot, make_window, project_dir, tmp_path) -> None:
    asked: list[str] = []
    window = make_window()
    window.state.ask = lambda title, *a, **k: asked.append(title) or Answer.Discard  # type: ignore[method-assign]
    open_and_wait(qtbot, window, project_dir)
    window.state.project.add_subclip(window.state.video_id, 0, 5, label="walk")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "project.json").write_text('{"format": "framewatch-project", "version": 1, "videos": [')
    assert not window.library.open_project_path(broken)
    assert asked == []  # nothing was asked: the broken project never got that far
    assert "broken" in error_dialog.shown[-1].text and window.state.project.folder == project_dir
    assert window.state.project.dirty and len(window.state.project.subclips) == 1
    assert not window.library.new_project_path(project_dir)  # a project exists there: refused after Discard
    assert window.state.project.dirty and not window.library._discard_on_close
    window.state.ask = lambda *a, **k: Answer.Cancel  # type: ignore[method-assign]
    window.close()
    assert window.isVisible()  # still asks about the unsaved edits


def test_opening_a_video_file_as_a_project_says_what_to_do(qtbot, make_window, project_dir, tmp_path) -> None:
    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    clip = make_clip(tmp_path / "clip.avi")
    assert not window.library.open_project_path(clip)
    text = error_dialog.shown[-1].text
    assert "clip.avi" in text and "not a project" in text and "Add Videos" in text
    assert window.state.project.folder == project_dir


def test_a_project_open_in_another_process_opens_read_only_and_says_so(qtbot, make_window, project_dir,
                                                                      tmp_path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from core.project import Project; p = Project.open(sys.argv[1], "
         "program='framewatch train'); print('ready', flush=True); sys.stdin.readline(); p.close()", str(project_dir)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        window = make_window()
        open_and_wait(qtbot, window, project_dir)  # shown, not refused
        assert window.state.project.read_only and error_dialog.shown == []
        assert window.status_read_only.isVisible()
        assert window.status_read_only.text().startswith("Read-only: open in framewatch train by ")
        assert f"PID {holder.pid}, since " in window.status_read_only.text()
        assert "(read-only)" in window.windowTitle()
        actions = window.actions_by_key
        assert not actions["save_project"].isEnabled() and not actions["create_subclip"].isEnabled()
        assert actions["save_project_as"].isEnabled()
        before = (project_dir / "project.json").read_bytes()
        assert window.library.save_project_as_path(tmp_path / "copy")  # Save As: a copy of one's own to work on
        assert not window.state.project.read_only and not window.status_read_only.isVisible()
        assert "(read-only)" not in window.windowTitle()
        assert (project_dir / "project.json").read_bytes() == before
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0 and not (project_dir / "project.lock").exists()


def test_the_window_holds_the_projects_lock_until_it_closes(qtbot, make_window, project_dir) -> None:
    import os

    from core.project.lock import read_owner

    window = make_window()
    open_and_wait(qtbot, window, project_dir)
    owner = read_owner(project_dir)
    assert owner is not None and owner.pid == os.getpid() and owner.program == "Framewatch (GUI)"
    window.close()
    assert read_owner(project_dir) is None
    Project.open(project_dir, wait_s=0).close()  # free again
