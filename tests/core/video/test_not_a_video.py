"""Paths that FFmpeg or the OS would open but that are not footage: named pipes, devices, symbolic link
loops, text files, single images. Each is refused with one error naming the path, and none may block.

Opening a named pipe blocks until something writes to it, so every call that could block runs in a
child process with a bounded wait: a regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import UnsupportedFormatError
from core.project.fingerprint import fingerprint
from core.video import open_video
from tests.conftest import REPO
from tests.video_factory import write_video

pytestmark = [pytest.mark.timeout(180), pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")]

#: Longest a child process may take to refuse a path (it takes about a second; a blocked open never ends).
BOUND_S = 90


def run_bounded(code: str) -> str:
    """Run ``code`` in a child Python (this repository first on its path) and return what it printed;
    fail the test, killing the child, when it runs past :data:`BOUND_S` seconds."""
    try:
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"blocked for {BOUND_S} s (a named pipe was opened?): {code}")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _refusal_of(call: str, path: Path) -> str:
    """What ``call(path)`` raises in a child process, as ``"ErrorType: message"``."""
    module, name = call.rsplit(".", 1)
    return run_bounded(
        f"from pathlib import Path\nfrom {module} import {name}\nfrom core.errors import VideoError\n"
        f"try:\n    {name}(Path({str(path)!r}))\nexcept VideoError as exc:\n    print(type(exc).__name__ + ': ' + str(exc))\n"
        "else:\n    print('accepted')\n"
    )


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "camera.mp4"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("call", [
    "core.video.open_video", "core.video.file_source.FileVideoSource", "core.project.videos.probe_video",
    "core.project.fingerprint.fingerprint",
])
def test_a_named_pipe_is_refused_without_being_opened(fifo: Path, call: str) -> None:
    assert _refusal_of(call, fifo) == f"UnsupportedFormatError: {fifo}: is a named pipe (FIFO), not a video file or a folder of images"


def test_a_project_video_replaced_by_a_named_pipe_is_reported_not_read(tmp_path: Path) -> None:
    """The report: ``project info`` hung when a project's video had become a FIFO (its fingerprint read it)."""
    from core.project.project import Project

    video = write_video(tmp_path / "clip.avi", 10)
    project = Project.create(tmp_path / "proj")
    project.add_video(video)
    project.save()
    project.close()
    video.unlink()
    os.mkfifo(video)
    printed = run_bounded(
        "from core.project.project import Project\nfrom core.project.validation import validate, video_file_status\n"
        f"project = Project.open({str(tmp_path / 'proj')!r}, read_only=True)\n"
        "print(video_file_status(next(iter(project.data.videos.values()))))\n"
        "print(*[f'{i.kind}|{i.message}' for i in validate(project.data)], sep='\\n')\n"
    )
    status, issue = printed.splitlines()
    assert status == "unreadable"
    assert issue == f"unreadable_video|video clip.avi cannot be read: {video}: is a named pipe (FIFO), not a video file " \
                    "or a folder of images (relink it)"


def test_devices_and_link_loops_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match="^/dev/null: is a device, not a video file"):
        open_video("/dev/null")
    loop = tmp_path / "loop.mp4"
    loop.symlink_to(tmp_path / "back.mp4")
    (tmp_path / "back.mp4").symlink_to(loop)
    for call in (open_video, fingerprint):
        with pytest.raises(UnsupportedFormatError, match=f"^{loop}: is a symbolic link loop"):
            call(loop)


@pytest.mark.parametrize("name", ["notes.txt", "readme.nfo", "banner.asc"])
def test_a_text_file_is_not_a_video(tmp_path: Path, name: str) -> None:
    """The report: FFmpeg's ``ansi`` decoder drew a text file as "59 frames, 640x400"."""
    text = tmp_path / name
    text.write_text("these are my notes, not a video\n" * 200)
    capture = cv2.VideoCapture(str(text), cv2.CAP_FFMPEG)
    assert capture.isOpened() and capture.grab()  # FFmpeg itself takes it for video
    capture.release()
    with pytest.raises(UnsupportedFormatError, match=f"^{text}: is text, not a video"):
        open_video(text)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".tif"])
def test_a_single_image_under_a_video_name_is_refused_as_the_guide_says(tmp_path: Path, ext: str) -> None:
    """An image named ``.mp4`` is read by an image demuxer, one picture: refused like ``photo.png`` is."""
    image = tmp_path / f"photo{ext}"
    cv2.imwrite(str(image), np.full((48, 64, 3), 90, np.uint8))
    disguised = image.rename(tmp_path / f"photo{ext.replace('.', '_')}.mp4")
    for path in (image.with_name(f"real{ext}"), disguised):
        if not path.exists():
            path.write_bytes(disguised.read_bytes())
        with pytest.raises(UnsupportedFormatError, match=f"^{path}: a single image is not a video: open the folder"):
            open_video(path)


def test_a_one_frame_video_is_still_a_video(tmp_path: Path) -> None:
    for name in ("one.avi", "one.mp4"):
        source = open_video(write_video(tmp_path / name, 1, fourcc="MJPG" if name.endswith(".avi") else "mp4v"))
        assert source.frame_count == 1
