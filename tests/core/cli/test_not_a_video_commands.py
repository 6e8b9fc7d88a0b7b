"""``info``, ``frames``, ``cut`` and ``project add-video`` on paths that are not footage: one line, exit 2.

Named pipes run the command in a child process with a bounded wait (opening one blocks until something
writes to it), so a regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.cli.main import main as cli
from tests.conftest import REPO
from tests.core.cli.one_line_errors import assert_one_line_error
from tests.video_factory import write_video

pytestmark = [pytest.mark.timeout(300), pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")]

#: Longest a command may take to refuse a path (about a second; a blocked open never ends).
BOUND_S = 90


def _commands(path: Path, tmp_path: Path) -> list[list[str]]:
    project = tmp_path / "proj"
    if not project.exists():
        assert cli(["project", "new", str(project)]) == 0
    return [
        ["info", str(path)],
        ["frames", str(path), "-o", str(tmp_path / "frames")],
        ["cut", str(path), "-o", str(tmp_path / "cut.mp4"), "--start", "0", "--end", "1"],
        ["project", "add-video", str(project), str(path)],
    ]


def _framewatch_bounded(argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, "-m", "core.cli.main", *argv], cwd=REPO, capture_output=True, text=True,
                              timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"framewatch {' '.join(argv)} blocked for {BOUND_S} s")


def test_a_named_pipe_is_one_line_and_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "camera.mp4"
    os.mkfifo(fifo)
    for argv in _commands(fifo, tmp_path):
        done = _framewatch_bounded(argv)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and lines == [
            f"framewatch: error: {fifo}: is a named pipe (FIFO), not a video file or a folder of images"], (argv, done.stderr)
    assert not (tmp_path / "frames").exists() and not (tmp_path / "cut.mp4").exists()


def test_project_info_names_a_video_that_became_a_named_pipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The report: ``project info`` hung (and ``train`` after it) on a project whose video had become a FIFO."""
    video = write_video(tmp_path / "clip.avi", 10)
    project = tmp_path / "proj"
    assert cli(["project", "new", str(project)]) == 0
    assert cli(["project", "add-video", str(project), str(video)]) == 0
    capsys.readouterr()
    video.unlink()
    os.mkfifo(video)
    done = _framewatch_bounded(["project", "info", str(project)])
    assert f"video clip.avi cannot be read: {video}: is a named pipe (FIFO)" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def _text(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a video\n" * 200)
    return path


def _image(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), np.full((48, 64, 3), 90, np.uint8))
    return path.rename(tmp_path / "photo.mp4")


def _link_loop(tmp_path: Path) -> Path:
    loop = tmp_path / "loop.mp4"
    loop.symlink_to(tmp_path / "back.mp4")
    (tmp_path / "back.mp4").symlink_to(loop)
    return loop


@pytest.mark.parametrize(("make", "problem"), [
    (_text, "is text, not a video"),
    (_image, "a single image is not a video"),
    (lambda tmp_path: Path("/dev/null"), "is a device, not a video file"),
    (_link_loop, "is a symbolic link loop"),
])
def test_other_paths_that_are_not_footage_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], Path], problem: str
) -> None:
    path = make(tmp_path)
    for argv in _commands(path, tmp_path):
        capsys.readouterr()
        assert_one_line_error(capsys, argv, f"{path}: {problem}")
