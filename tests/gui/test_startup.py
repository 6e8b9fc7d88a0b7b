"""The first run: the display check before Qt starts, what the command line opens, bare videos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.project import Project
from desktop_app.jobs import error_dialog
from desktop_app.library import demo
from desktop_app.shell.app import Startup, open_startup, parse_args, startup_choice
from desktop_app.shell.display_check import display_problem, missing_libraries, qt_platform
from tests.conftest import REPO
from tests.gui.window_driver import make_clip

LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /site/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-cursor.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)
"""
LDD_ALL_FOUND = "\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)\n"
PLUGIN = Path("/site/PySide6/Qt/plugins/platforms/libqxcb.so")


def _problem(environ, ldd_output, load=lambda name: True, plugin=PLUGIN, root=False):
    return display_problem(environ, [], plugin=lambda: plugin, ldd=lambda _p: ldd_output, load=load,
                           as_root=lambda: root)


def test_missing_x_libraries_are_named_with_the_apt_line() -> None:
    problem = _problem({"DISPLAY": ":0"}, LDD_MISSING)
    assert "\n" not in problem
    assert "needs libxcb-cursor.so.0, libxcb-icccm.so.4, libxkbcommon-x11.so.0, which are not installed" in problem
    assert "sudo apt-get install -y libxcb-cursor0 libxcb-icccm4 libxkbcommon-x11-0 " in problem
    assert "libxcb1" not in problem  # found libraries are not asked for
    as_root = _problem({"DISPLAY": ":0"}, LDD_MISSING, root=True)  # a root shell in a container has no sudo
    assert "Debian/Ubuntu: apt-get install -y libxcb-cursor0 " in as_root and "sudo" not in as_root


def test_without_ldd_each_known_library_is_tried() -> None:
    tried: list[str] = []

    def load(name: str) -> bool:
        tried.append(name)
        return name != "libxcb-keysyms.so.1"

    assert missing_libraries(None, ldd=lambda _p: None, load=load) == ["libxcb-keysyms.so.1"]
    assert "libxcb-cursor.so.0" in tried and "libxkbcommon-x11.so.0" in tried
    problem = _problem({"DISPLAY": ":0"}, None, load=load)
    assert "needs libxcb-keysyms.so.1, which is not installed" in problem
    assert "apt-get install -y libxcb-keysyms1 " in problem


def test_no_display_is_reported_and_a_complete_setup_passes() -> None:
    assert "DISPLAY is not set" in _problem({}, LDD_ALL_FOUND)
    assert "xvfb-run -a" in _problem({}, LDD_ALL_FOUND)
    assert _problem({"DISPLAY": ":99"}, LDD_ALL_FOUND) is None


@pytest.mark.parametrize(("argv0", "command"), [
    ("main.py", "python3 main.py"), ("/src/framewatch/main.py", "python3 main.py"),
    ("/venv/lib/python3.11/site-packages/desktop_app/__main__.py", "python3 -m desktop_app"),
    ("/venv/bin/framewatch-gui", "framewatch-gui"),
])
def test_the_xvfb_advice_repeats_how_the_app_was_started(argv0: str, command: str) -> None:
    problem = display_problem({}, [argv0], plugin=lambda: PLUGIN, ldd=lambda _p: LDD_ALL_FOUND, load=lambda n: True)
    assert problem.endswith(f"under Xvfb: xvfb-run -a {command}")


@pytest.mark.parametrize("environ", [
    {"QT_QPA_PLATFORM": "offscreen"}, {"QT_QPA_PLATFORM": "wayland"}, {"QT_QPA_PLATFORM": "minimal:enable_fonts"},
])
def test_other_platforms_are_not_checked(environ) -> None:
    assert _problem(environ, LDD_MISSING) is None


def test_the_platform_qt_tries_first() -> None:
    assert qt_platform({"QT_QPA_PLATFORM": "xcb;offscreen"}, []) == "xcb"
    assert qt_platform({}, ["main.py", "-platform", "offscreen"]) == "offscreen"
    if sys.platform == "linux":
        assert qt_platform({}, []) == "xcb"
        assert qt_platform({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, []) == "wayland"


def test_main_py_without_a_display_prints_one_line_and_exits_2(tmp_path) -> None:
    """Before the check, Qt aborted here with a core dump (missing xcb libraries or no display)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env["QT_QPA_PLATFORM"] = "xcb"
    result = subprocess.run([sys.executable, str(REPO / "main.py"), "--empty"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("framewatch: cannot open a window: "), result.stderr
    assert result.stdout == ""


def test_command_line_decides_what_opens(tmp_path) -> None:
    clip = make_clip(tmp_path / "clip.avi")
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "000.png").write_bytes(b"")
    project = Project.create(tmp_path / "proj")
    project.close()
    (tmp_path / "empty").mkdir()
    cases = {
        (): Startup("demo"),
        ("--demo",): Startup("demo"),
        ("--empty",): Startup("empty"),
        ("--new", str(tmp_path / "n")): Startup("new", tmp_path / "n"),
        (str(project.folder),): Startup("project", project.folder),
        (str(project.path),): Startup("project", project.path),
        (str(clip),): Startup("video", clip),
        (str(frames),): Startup("video", frames),
        (str(tmp_path / "empty"),): Startup("project", tmp_path / "empty"),  # its error: not a project
        (str(tmp_path / "missing"),): Startup("project", tmp_path / "missing"),
    }
    for argv, expected in cases.items():
        assert startup_choice(parse_args(argv)) == expected, argv


@pytest.fixture
def scratch_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "appdata"
    monkeypatch.setattr(demo, "user_data_dir", lambda: home)
    return home


def test_a_bare_video_opens_at_once_in_a_scratch_project(qtbot, make_window, tmp_path, scratch_home) -> None:
    clip = make_clip(tmp_path / "walkway.avi")
    window = make_window()
    assert open_startup(window, startup_choice(parse_args([str(clip)])))
    qtbot.waitUntil(lambda: window.player.has_video and window.player.shown_index == 0, timeout=10000)
    assert window.library.is_scratch()
    assert scratch_home / "scratch" in window.state.project.folder.parents
    assert [v.path for v in window.state.project.videos.values()] == [clip.resolve()]
    assert window.state.video.name == "walkway.avi"
    assert "scratch project, not saved: File > Save As keeps it" in window.windowTitle()
    assert str(window.state.project.folder) not in window.library.recent_projects()
    assert not window.isWindowModified() and not window.state.project.undo_stack.can_undo
    window.state.project.add_class("walk")
    window.state.project.add_subclip(window.state.video_id, 0, 5, label="walk")

    kept = tmp_path / "kept"
    window.state.choose_new_folder = lambda _title: kept  # type: ignore[method-assign]
    assert window.library.save_project()  # Save on a scratch project is Save As
    assert window.state.project.folder == kept and not window.library.is_scratch()
    assert "scratch" not in window.windowTitle()
    saved = Project.open(kept)
    assert [v.path for v in saved.videos.values()] == [clip.resolve()] and len(saved.subclips) == 1


def test_a_file_that_is_not_a_video_shows_an_error_and_changes_nothing(
        qtbot, make_window, tmp_path, project_dir, scratch_home) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video\n")
    window = make_window()
    window.library.open_project_path(project_dir)
    assert window.library.open_video_path(notes)
    qtbot.waitUntil(lambda: len(error_dialog.shown) == 1, timeout=10000)
    assert str(notes) in error_dialog.shown[0].text and error_dialog.shown[0].expected
    assert window.state.project.folder == project_dir  # the open project stays
    assert not (scratch_home / "scratch").exists()
    assert not window.library.open_video_path(tmp_path / "gone.mp4")
    assert "gone.mp4: does not exist" in error_dialog.shown[-1].text
